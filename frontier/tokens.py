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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEAD_SHARE = 0.25
"""The share of a cut text's tokens ``headAndTail`` takes from its opening (Sun et al.'s 128 of 510)."""


class Truncation(enum.StrEnum):
    HEAD = "head"
    HEAD_AND_TAIL = "headAndTail"

    def describe(self) -> str:
        """Which tokens of a longer text are kept, for logs and the model card."""
        if self is Truncation.HEAD_AND_TAIL:
            return f"a longer text keeps the first {HEAD_SHARE:.0%} of them from its opening and the rest from its end"
        return "a longer text keeps its opening"


CHUNK = 1024
"""Texts tokenized at once: a text is tokenized whole before it is cut, so memory grows with the batch."""

WINDOW_CHARS_PER_TOKEN = 6
"""How many characters of a long text's opening (and end) are read per token kept from it. English WordPiece
averages about 4.5 (IMDB reviews, MiniLM's tokenizer); a window that holds too few tokens falls back to the
whole text, so this only sets how often that happens."""

WINDOWS_WORTH_IT = 1.25
"""A text is read through windows when it is at least this many times as long as they are: two pieces cost a
little more to tokenize than one, so the middle left out must be worth it."""

SPLIT_AT_SPACES = frozenset({"BertPreTokenizer", "Whitespace", "WhitespaceSplit"})
"""Pre-tokenizers that split a text into words at every space and drop the spaces: with one of these (and only
splits within words after it, and normalizers that rewrite characters one by one), a text cut at a space
tokenizes into exactly the tokens the whole text starts (or ends) with."""
SPLIT_WITHIN_WORDS = frozenset({"Punctuation", "Digits"})
PER_CHARACTER_NORMALIZERS = frozenset({"BertNormalizer", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "StripAccents"})


@dataclass(frozen=True)
class Tokens:
    ids: list[int]
    type_ids: list[int]


@dataclass(frozen=True)
class Template:
    """The special tokens a tokenizer's post-processor puts around one text ([CLS] … [SEP], <s> …)."""

    prefix: Tokens
    suffix: Tokens
    type_id: int
    """The token type of the text's own tokens."""

    @classmethod
    def of(cls, tokenizer: Any) -> Template:
        """Read off the post-processor: where a probe text's tokens land among the special tokens."""
        raw = tokenizer.encode("a", add_special_tokens=False)
        full = tokenizer.post_process(raw)
        n = len(raw.ids)
        starts = [i for i in range(len(full.ids) - n + 1) if full.ids[i : i + n] == raw.ids]
        if n == 0 or not starts:
            raise ValueError("the tokenizer's post-processor changes a text's own tokens; it cannot be cut")
        at, end = starts[0], starts[0] + n
        return cls(
            Tokens(full.ids[:at], full.type_ids[:at]), Tokens(full.ids[end:], full.type_ids[end:]), full.type_ids[at]
        )

    def wrap(self, ids: list[int]) -> Tokens:
        return Tokens(
            self.prefix.ids + ids + self.suffix.ids,
            self.prefix.type_ids + [self.type_id] * len(ids) + self.suffix.type_ids,
        )


def splits_words_at_spaces(config: dict[str, Any]) -> bool:
    """Whether a tokenizer (its ``tokenizer.json``) tokenizes the words between spaces each on its own."""

    def members(part: dict[str, Any] | None, key: str) -> list[str]:
        if not part:
            return []
        if part.get("type") == "Sequence":
            return [str(member.get("type")) for member in part.get(key) or []]
        return [str(part.get("type"))]

    splitters = members(config.get("pre_tokenizer"), "pretokenizers")
    normalizers = members(config.get("normalizer"), "normalizers")
    return (
        bool(splitters)
        and splitters[0] in SPLIT_AT_SPACES
        and all(s in SPLIT_AT_SPACES | SPLIT_WITHIN_WORDS for s in splitters)
        and all(n in PER_CHARACTER_NORMALIZERS for n in normalizers)
    )


class TextEncoder:
    """A fast (``tokenizers``) tokenizer that cuts every text by ``truncation`` to ``max_length`` tokens.

    A text is tokenized whole, without special tokens, cut (a plain list slice) and wrapped in the special
    tokens its post-processor adds (``Template``). Not with ``Encoding.truncate``: a cut ``Encoding`` keeps
    the rest as overflowing pieces, and merging a head with a tail multiplies them."""

    def __init__(self, tokenizer: Any, max_length: int, truncation: Truncation | str, pad_id: int) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation = Truncation(truncation)
        self.pad_id = pad_id
        # tokenizer.json may carry its own truncation and padding; cutting is done here instead.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.template = Template.of(tokenizer)
        budget = max(1, max_length - len(self.template.prefix.ids) - len(self.template.suffix.ids))
        head = budget
        if self.truncation == Truncation.HEAD_AND_TAIL and budget > 1:
            head = min(budget - 1, max(1, round(budget * HEAD_SHARE)))
        self.budget, self.head = budget, head
        self.windowed = splits_words_at_spaces(json.loads(self.tokenizer.to_str()))

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

    def cut(self, ids: list[int]) -> list[int]:
        """A text's own token ids, cut to the budget ``max_length`` leaves after the special tokens."""
        if len(ids) <= self.budget:
            return ids
        tail = self.budget - self.head
        return ids[: self.head] + (ids[-tail:] if tail else [])

    def encode(self, texts: Sequence[str]) -> list[Tokens]:
        """Ids and token types of every text, cut, with the model's special tokens, unpadded."""
        out: list[Tokens] = []
        for start in range(0, len(texts), CHUNK):
            out.extend(self.template.wrap(ids) for ids in self._own_ids(texts[start : start + CHUNK]))
        return out

    def _own_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's own token ids, cut. A text far longer than the budget is read through its windows; one
        whose windows hold too few tokens, whole."""
        windows = [self.windows(text) for text in texts]
        pieces = [piece for window in windows if window for piece in window]
        read = iter(self.tokenizer.encode_batch(pieces, add_special_tokens=False) if pieces else [])
        joined = [self._joined(next(read).ids, next(read).ids) if window else None for window in windows]
        whole = [text for text, ids in zip(texts, joined, strict=True) if ids is None]
        read = iter(self.tokenizer.encode_batch(whole, add_special_tokens=False) if whole else [])
        return [ids if ids is not None else self.cut(next(read).ids) for ids in joined]

    def windows(self, text: str) -> tuple[str, str] | None:
        """The opening and the end of ``text`` that hold the tokens ``cut`` keeps, each cut at a space; None
        when the whole text is to be read (too short for windows to save much, no space to cut at, or a
        tokenizer that does not split words at spaces). Tokenizing a long review costs as much as its length:
        the middle, which no cut keeps, is most of it."""
        tail = self.budget - self.head
        head_chars = (self.head + 1) * WINDOW_CHARS_PER_TOKEN
        tail_chars = (tail + 1) * WINDOW_CHARS_PER_TOKEN if tail else 0
        if not self.windowed or len(text) < WINDOWS_WORTH_IT * (head_chars + tail_chars):
            return None
        head_end = text.rfind(" ", 0, head_chars)
        tail_start = text.find(" ", len(text) - tail_chars) if tail else len(text)
        if head_end <= 0 or tail_start <= head_end:
            return None
        return text[:head_end], text[tail_start:]

    def _joined(self, head_ids: list[int], tail_ids: list[int]) -> list[int] | None:
        """``cut`` of the whole text from its windows' tokens, or None when a window holds too few of them."""
        tail = self.budget - self.head
        if len(head_ids) < self.head or len(tail_ids) < tail:
            return None
        return head_ids[: self.head] + (tail_ids[-tail:] if tail else [])

    def arrays(self, texts: Sequence[str], length: int | None = None) -> dict[str, Any]:
        """``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64), right-padded to ``length`` or to
        the longest text."""
        import numpy as np

        encoded = self.encode(texts)
        width = length if length is not None else max((len(t.ids) for t in encoded), default=1)
        ids = np.full((len(encoded), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        types = np.zeros((len(encoded), width), dtype=np.int64)
        for row, tokens in enumerate(encoded):
            n = len(tokens.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = tokens.ids, 1, tokens.type_ids
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
