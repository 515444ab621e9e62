"""How many tokens the model reads: ``maxLength``, or the data's own length (``lengthCoverage``).

Attention and the feed-forward layers cost in proportion to the tokens of every padded batch, in training
and in serving alike, so a length that keeps whole what the rows actually say — and no more — is time given
back to the budget and latency taken off every request. With ``lengthCoverage`` the trainer counts the tokens
of a stratified sample of training rows (truncated at ``maxLength``, so the cap can be the answer) and
truncates at the shortest multiple of ``MULTIPLE`` that keeps that share of them whole. The choice is the
artifact's ``max_length``: the served model truncates the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from frontier.data import sampling
from frontier.tokens import Truncation

SAMPLE_ROWS = 2000
"""Training rows counted: enough to place a 99th percentile within a few rows, quick at any length."""
MULTIPLE = 8
"""Lengths are rounded up to this (kernels vectorise over it; a few tokens of slack on each side)."""


@dataclass(frozen=True)
class LengthChoice:
    """The truncation length (and rule) the run trains, evaluates, exports and serves with, and how it was
    found."""

    max_length: int
    coverage: float | None = None
    """``lengthCoverage`` as asked; None: ``maxLength`` as declared."""
    kept_whole: float = 1.0
    """The share of the sampled rows that fit in ``max_length`` tokens."""
    sampled: int = 0
    truncation: Truncation = Truncation.HEAD

    def describe(self) -> str:
        kept = f" ({self.truncation.describe()})" if self.truncation == Truncation.HEAD_AND_TAIL else ""
        if self.coverage is None:
            return f"inputs truncated at maxLength {self.max_length} tokens{kept}"
        return (
            f"inputs truncated at {self.max_length} tokens{kept}, the shortest multiple of {MULTIPLE} that keeps "
            f"{self.coverage:.1%} of {self.sampled} sampled training rows whole (kept {self.kept_whole:.1%})"
        )


def covering_length(lengths: npt.ArrayLike, coverage: float, cap: int) -> int:
    """The shortest multiple of ``MULTIPLE`` (at most ``cap``) at or above ``coverage`` of ``lengths``."""
    counts = np.asarray(lengths)
    if counts.size == 0:
        return cap
    needed = int(np.quantile(counts, coverage, method="inverted_cdf"))
    return min(cap, max(MULTIPLE, math.ceil(needed / MULTIPLE) * MULTIPLE))


def choose(
    tokenizer: Any,
    texts: Sequence[str],
    labels: npt.ArrayLike,
    cap: int,
    coverage: float | None,
    seed: int,
    truncation: Truncation = Truncation.HEAD,
) -> LengthChoice:
    """``cap`` (``maxLength``) unless ``coverage`` asks for the data's length."""
    truncation = Truncation(truncation)  # the API model holds its value
    if coverage is None:
        return LengthChoice(cap, truncation=truncation)
    rows = sampling.stratified_sample(np.asarray(labels), SAMPLE_ROWS, seed)
    sample = [texts[int(i)] for i in rows]
    counted = tokenizer(sample, truncation=True, max_length=cap, padding=False)["input_ids"]
    lengths = np.array([len(ids) for ids in counted])
    chosen = covering_length(lengths, coverage, cap)
    whole = lengths <= chosen if chosen < cap else lengths < cap  # a row counted at the cap may have been cut
    return LengthChoice(chosen, coverage, float(whole.mean()) if lengths.size else 1.0, len(sample), truncation)
