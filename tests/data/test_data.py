"""Reading and shaping the data, and every way bad data is refused with what and where."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from frontier.api.spec import DatasetSpec
from frontier.data.data import prepare
from frontier.errors import DataError
from tests.trainer.helpers import LABELS, tiny_rows, write_jsonl


def _dataset(**fields: Any) -> DatasetSpec:
    return DatasetSpec.model_validate({"train": {"uri": "train.jsonl"}} | fields)


def _prepare(tmp_path: Path, train: list[dict[str, Any]], **fields: Any) -> Any:
    write_jsonl(tmp_path / "train.jsonl", train)
    return prepare(_dataset(**fields), LABELS, tmp_path, seed=0)


# ------------------------------------------------------------------------------------------ shaping


def test_labels_map_onto_the_declared_label_order(tmp_path: Path) -> None:
    data = _prepare(tmp_path, tiny_rows(10))
    names = [LABELS[i] for i in data.train.labels]
    texts = {r["text"]: r["label"] for r in tiny_rows(10)}
    assert all(texts[t] == n for t, n in zip(data.train.texts, names, strict=True))


def test_without_an_eval_source_a_stratified_fraction_is_held_out(tmp_path: Path) -> None:
    data = _prepare(tmp_path, tiny_rows(20), evalFraction=0.2)
    assert data.eval.counts(3) == [4, 4, 4]
    assert data.train.counts(3) == [16, 16, 16]
    assert not set(data.eval.texts) & set(data.train.texts)
    assert data.eval_source.startswith("held-out")


def test_max_train_and_eval_samples_are_stratified(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "eval.jsonl", tiny_rows(10))
    data = _prepare(tmp_path, tiny_rows(20), eval={"uri": "eval.jsonl"}, maxTrainSamples=30, maxEvalSamples=9)
    assert data.train.counts(3) == [10, 10, 10]
    assert data.eval.counts(3) == [3, 3, 3]
    assert data.describe()["train"]["source_rows"] == 60


def test_the_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    a = _prepare(tmp_path, tiny_rows(20), maxTrainSamples=21)
    b = _prepare(tmp_path, tiny_rows(20), maxTrainSamples=21)
    assert a.train.texts == b.train.texts and a.eval.texts == b.eval.texts


def _skewed() -> list[dict[str, Any]]:
    rows = tiny_rows(20)
    return [r for r in rows if r["label"] != "food"] + [r for r in rows if r["label"] == "food"][:5]


def test_balance_resample_moves_classes_to_the_mean_count(tmp_path: Path) -> None:
    data = _prepare(tmp_path, _skewed(), evalFraction=0.2, balance="resample")
    counts = data.train.counts(3)
    assert len(set(counts)) == 1 and counts[0] == round((16 + 16 + 4) / 3)
    assert data.class_weights is None


def test_balance_class_weights_weigh_rare_classes_up(tmp_path: Path) -> None:
    data = _prepare(tmp_path, _skewed(), evalFraction=0.2, balance="classWeights")
    assert data.class_weights is not None
    assert data.class_weights[2] > data.class_weights[0] == pytest.approx(data.class_weights[1])
    assert data.train.counts(3) == [16, 16, 4]


@pytest.mark.parametrize("value", [1, "1"])
def test_an_integer_label_names_a_label_by_position(tmp_path: Path, value: Any) -> None:
    rows = [*tiny_rows(4), {"text": "another chip story", "label": value}]
    data = _prepare(tmp_path, rows, evalFraction=0.2)
    assert sum(data.train.counts(3)) + sum(data.eval.counts(3)) == 13


# ------------------------------------------------------------------------------------------ bad data

BAD_DATA = [
    # (name, rows, message fragments)
    (
        "unknown labels",
        [*tiny_rows(3), {"text": "x", "label": "weather"}, {"text": "y", "label": "Sports"}],
        ["2 row(s) have a label not in spec.labels", "row 10 ('weather')", "row 11 ('Sports')"],
    ),
    ("out-of-range label index", [*tiny_rows(3), {"text": "x", "label": 7}], ["row 10 (7)"]),
    ("missing text field", [*tiny_rows(2), {"body": "x", "label": "tech"}], ["row 7 has no 'text' field", "body"]),
    ("missing label field", [{"text": "x"}, *tiny_rows(2)], ["row 1 has no 'label' field"]),
    ("null label", [*tiny_rows(2), {"text": "x", "label": None}], ["row 7 has no 'label' field"]),
    ("empty text", [*tiny_rows(2), {"text": "   ", "label": "tech"}], ["row 7 has an empty text"]),
    (
        "a class without examples",
        [r for r in tiny_rows(5) if r["label"] != "food"],
        ["no examples of 'food'", "every label in spec.labels needs training rows"],
    ),
]


@pytest.mark.parametrize(("rows", "fragments"), [c[1:] for c in BAD_DATA], ids=[c[0] for c in BAD_DATA])
def test_bad_training_data_is_refused_with_what_and_where(
    tmp_path: Path, rows: list[dict[str, Any]], fragments: list[str]
) -> None:
    with pytest.raises(DataError) as error:
        _prepare(tmp_path, rows)
    message = str(error.value)
    assert "train split" in message and str(tmp_path / "train.jsonl") in message
    for fragment in fragments:
        assert fragment in message


def test_a_long_list_of_unknown_labels_is_cut_short_but_counted(tmp_path: Path) -> None:
    rows = tiny_rows(2) + [{"text": f"t{i}", "label": "nope"} for i in range(12)]
    with pytest.raises(DataError, match=r"12 row\(s\).*row 7 .*row 11 \('nope'\), …$"):
        _prepare(tmp_path, rows)


def test_an_empty_train_file_is_an_empty_split(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text("\n")
    with pytest.raises(DataError, match=r"train split .*train.jsonl: no rows"):
        prepare(_dataset(), LABELS, tmp_path, seed=0)


def test_an_empty_eval_file_is_an_empty_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(3))
    (tmp_path / "eval.jsonl").write_text("")
    with pytest.raises(DataError, match=r"eval split .*eval.jsonl: no rows"):
        prepare(_dataset(eval={"uri": "eval.jsonl"}), LABELS, tmp_path, seed=0)


def test_bad_eval_labels_name_the_eval_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(3))
    write_jsonl(tmp_path / "eval.jsonl", [{"text": "x", "label": "weather"}])
    with pytest.raises(DataError, match=r"eval split .*eval.jsonl: 1 row\(s\) have a label not in"):
        prepare(_dataset(eval={"uri": "eval.jsonl"}), LABELS, tmp_path, seed=0)


def test_too_little_data_to_hold_out_an_eval_split(tmp_path: Path) -> None:
    rows = [
        {"text": "a goal", "label": "sports"},
        {"text": "a chip", "label": "tech"},
        {"text": "soup", "label": "food"},
    ]
    with pytest.raises(DataError, match=r"eval split .*no rows left"):
        _prepare(tmp_path, rows)


UNREADABLE = [
    ("missing file", None, "no such file"),
    ("not JSON", b'{"text": "a", "label": "tech"}\n{oops\n', "row 2: not valid JSON"),
    ("not an object", b'["a", "tech"]\n', "row 1: expected a JSON object, got list"),
    ("damaged gzip", b"\x1f\x8bnot really gzip", "not valid gzip"),
    ("not UTF-8", b'{"text": "\xff\xfe", "label": "tech"}\n', "not UTF-8"),
]


@pytest.mark.parametrize(("content", "fragment"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
def test_an_unreadable_file_names_the_path_and_the_reason(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    if content is not None:
        (tmp_path / "train.jsonl").write_bytes(content)
    with pytest.raises(DataError) as error:
        prepare(_dataset(), LABELS, tmp_path, seed=0)
    assert str(tmp_path / "train.jsonl") in str(error.value)
    assert fragment in str(error.value)


def test_a_directory_is_not_a_data_file(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").mkdir()
    with pytest.raises(DataError, match="is a directory"):
        prepare(_dataset(), LABELS, tmp_path, seed=0)


def test_an_unknown_extension_asks_for_a_format(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("x")
    with pytest.raises(DataError, match="set format: jsonl, csv or parquet"):
        prepare(_dataset(train={"uri": "train.txt"}), LABELS, tmp_path, seed=0)


def test_gzip_is_read_transparently(tmp_path: Path) -> None:
    payload = "".join(json.dumps(r) + "\n" for r in tiny_rows(5)).encode()
    (tmp_path / "train.jsonl.gz").write_bytes(gzip.compress(payload))
    data = prepare(_dataset(train={"uri": "train.jsonl.gz"}), LABELS, tmp_path, seed=0)
    assert len(data.train) + len(data.eval) == 15
