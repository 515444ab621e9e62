"""Tokenize once, then serve length-grouped, dynamically padded batches.

Padding every batch to ``maxLength`` wastes most of a CPU's time on pad tokens when texts are short.
Instead rows are put in a random *stratified* order (every prefix holds each class in its share), cut into
mega-batches of ``MEGA`` batches, sorted by length inside each mega-batch and split into batches, shuffled
within their mega-batch: batches hold rows of similar length (little padding), the epoch stays random,
and a run that stops part-way through an epoch (a time budget) has trained on a stratified sample of all
the rows rather than on a fixed subset. Everything is a function of (seed, epoch), so a resumed run sees
exactly the batches the interrupted one would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from frontier.errors import TrainingError
from frontier.tokens import TextEncoder, Truncation

MEGA = 50


@dataclass
class Encoded:
    """Token ids (and token types when the model uses them) of every row, unpadded."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]] | None
    pad_id: int

    def __len__(self) -> int:
        return len(self.input_ids)

    def lengths(self) -> np.ndarray[Any, np.dtype[np.int64]]:
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self.input_ids))

    def take(self, rows: Sequence[int]) -> Encoded:
        """These rows, in this order."""
        return Encoded(
            [self.input_ids[i] for i in rows],
            [self.token_type_ids[i] for i in rows] if self.token_type_ids is not None else None,
            self.pad_id,
        )


def encode(
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    input_names: Sequence[str],
    truncation: Truncation = Truncation.HEAD,
) -> Encoded:
    """Token ids as the served model will see them: cut by the same rule (``frontier.tokens``)."""
    try:
        encoder = TextEncoder.from_transformers(tokenizer, max_length, truncation)
    except ValueError as error:
        raise TrainingError(f"baseModel: {error}") from None
    encoded = encoder.encode(texts)
    types = [t.type_ids for t in encoded] if "token_type_ids" in input_names else None
    return Encoded([t.ids for t in encoded], types, encoder.pad_id)


def collate(encoded: Encoded, rows: Sequence[int]) -> dict[str, torch.Tensor]:
    """Right-padded int64 tensors for ``rows``, as long as the longest of them."""
    width = max(len(encoded.input_ids[r]) for r in rows)
    ids = torch.full((len(rows), width), encoded.pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    types = torch.zeros((len(rows), width), dtype=torch.long) if encoded.token_type_ids is not None else None
    for i, r in enumerate(rows):
        row = encoded.input_ids[r]
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
        if types is not None and encoded.token_type_ids is not None:
            types[i, : len(row)] = torch.tensor(encoded.token_type_ids[r], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if types is not None:
        batch["token_type_ids"] = types
    return batch


def stratified_order(labels: np.ndarray[Any, np.dtype[np.int64]], rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """A random order of the rows in which every prefix holds each class in its share (±1 row): each
    class's rows, shuffled, are spread evenly over [0, 1) with a random offset, then all are sorted."""
    keys = np.empty(len(labels), dtype=np.float64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        keys[rows[rng.permutation(len(rows))]] = (np.arange(len(rows)) + rng.random(len(rows))) / len(rows)
    return np.argsort(keys, kind="stable")


def length_grouped_batches(
    lengths: np.ndarray[Any, np.dtype[np.int64]],
    batch_size: int,
    seed: int,
    epoch: int,
    *,
    labels: np.ndarray[Any, np.dtype[np.int64]] | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> list[list[int]]:
    """The epoch's batches of row indices, in a stratified order when ``labels`` are given; with several
    workers, each takes every world_size-th batch."""
    rng = np.random.default_rng([seed, epoch])
    order = stratified_order(labels, rng) if labels is not None else rng.permutation(len(lengths))
    mega = batch_size * MEGA
    batches: list[list[int]] = []
    for start in range(0, len(order), mega):
        chunk = order[start : start + mega]
        chunk = chunk[np.argsort(-lengths[chunk], kind="stable")]
        group = [chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
        batches.extend(group[i] for i in rng.permutation(len(group)))
    if world_size > 1:
        usable = len(batches) - len(batches) % world_size
        batches = batches[rank:usable:world_size]
    return batches


def inference_batches(lengths: np.ndarray[Any, np.dtype[np.int64]], batch_size: int) -> list[list[int]]:
    """Rows sorted by length, in batches: the least padding for evaluation."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
