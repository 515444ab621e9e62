"""Which tokens of a text a model reads: one rule for training, evaluation and serving.

A text longer than ``maxLength`` tokens (special tokens included) is cut. ``head`` keeps its opening, as
tokenizers do by default. ``headAndTail`` keeps the first quarter of the budget from the opening and the rest
from the end: in a long review, ticket or article the conclusion says as much as the opening, and Sun et al.
(2019, "How to Fine-Tune BERT for Text Classification?") found head + tail the best cut of IMDB reviews, better
than the head or the tail alone. Fewer tokens are a cheaper request; a better cut keeps what they buy.

This file is also copied beside the Triton python-backend models (as ``frontier_tokens.py``): it runs in
Triton's stub, where frontier is not installed, so it imports only the standard library, numpy and
``tokenizers``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEAD_SHARE = 0.25
"""The share of a cut text's tokens ``headAndTail`` takes from its opening (Sun et al.'s 128 of 510)."""


class Truncation(enum.StrEnum):
    HEAD = "head"
    HEAD_AND_TAIL = "headAndTail"


class TextEncoder:
    """A fast (``tokenizers``) tokenizer that cuts every text by ``truncation`` to ``max_length`` tokens."""

    def __init__(self, tokenizer: Any, max_length: int, truncation: Truncation | str, pad_id: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = Truncation(truncation)
        self.pad_id = pad_id
        # Cutting is done here, after the text is tokenized and before special tokens are added; the
        # tokenizer's own truncation and padding (tokenizer.json may carry both) would get in the way.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.budget = max(1, max_length - tokenizer.num_special_tokens_to_add(False))

    @classmethod
    def from_directory(cls, directory: Path, max_length: int, truncation: Truncation | str) -> TextEncoder:
        """The tokenizer an artifact ships (``tokenizer.json``, the pad token from ``tokenizer_config.json``)."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        pad_token = "[PAD]"
        config_path = directory / "tokenizer_config.json"
        if config_path.is_file():
            token = json.loads(config_path.read_text()).get("pad_token")
            pad_token = (token.get("content") if isinstance(token, dict) else token) or pad_token
        pad_id = tokenizer.token_to_id(pad_token)
        return cls(tokenizer, max_length, truncation, 0 if pad_id is None else pad_id)

    @classmethod
    def from_transformers(cls, tokenizer: Any, max_length: int, truncation: Truncation | str) -> TextEncoder:
        """The Rust tokenizer inside a transformers fast tokenizer (a copy: the original is left as it is)."""
        from tokenizers import Tokenizer

        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer (no tokenizer.json to serve with)")
        pad_id = tokenizer.pad_token_id
        return cls(Tokenizer.from_str(backend.to_str()), max_length, truncation, 0 if pad_id is None else pad_id)

    def encode(self, texts: Sequence[str]) -> list[Any]:
        """One ``tokenizers.Encoding`` per text, cut and with the model's special tokens, unpadded."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        long = [i for i, encoding in enumerate(encodings) if len(encoding) > self.budget]
        if long and self.truncation is Truncation.HEAD_AND_TAIL and self.budget > 1:
            self._keep_head_and_tail(encodings, long, [texts[i] for i in long])
        else:
            for i in long:
                encodings[i].truncate(self.budget)
        return [self.tokenizer.post_process(encoding) for encoding in encodings]

    def arrays(self, texts: Sequence[str], length: int | None = None) -> dict[str, Any]:
        """``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64), right-padded to ``length`` or to
        the longest text."""
        import numpy as np

        encodings = self.encode(texts)
        width = length if length is not None else max((len(e) for e in encodings), default=1)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            n = len(encoding)
            ids[row, :n], mask[row, :n], types[row, :n] = encoding.ids, encoding.attention_mask, encoding.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}

    def _keep_head_and_tail(self, encodings: list[Any], long: list[int], texts: list[str]) -> None:
        from tokenizers import Encoding

        head = min(self.budget - 1, max(1, round(self.budget * HEAD_SHARE)))
        tails = self.tokenizer.encode_batch(texts, add_special_tokens=False)  # a second copy to cut from the end
        for i, tail in zip(long, tails, strict=True):
            encodings[i].truncate(head)
            tail.truncate(self.budget - head, direction="left")
            encodings[i] = Encoding.merge([encodings[i], tail], growing_offsets=True)
