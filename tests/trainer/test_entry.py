"""`frontier train` at its edge: exit codes, messages, and where relative data URIs resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trainer.conftest import run_cli
from tests.trainer.helpers import manifest, minilm_candidate, tiny_rows, write_jsonl

pytestmark = pytest.mark.ml  # imports torch (the trainer's runtime), but trains nothing


def _bad_data(directory: Path) -> None:
    write_jsonl(directory / "train.jsonl", [*tiny_rows(2), {"text": "x", "label": "weather"}])
    write_jsonl(directory / "eval.jsonl", tiny_rows(1))


def test_bad_data_exits_2_naming_the_file_and_row(tmp_path: Path) -> None:
    _bad_data(tmp_path)
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()])
    code, stdout, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"))
    assert code == 2 and stdout == ""
    assert f"bad input: train split {tmp_path / 'train.jsonl'}: 1 row(s) have a label not in" in stderr
    assert "row 7 ('weather')" in stderr
    assert not (tmp_path / "o").exists()


def test_an_unknown_candidate_exits_2(tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()])
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "bert", "--out", str(tmp_path / "o"))
    assert code == 2 and "no candidate named 'bert' (candidates: minilm)" in stderr


def test_an_invalid_manifest_exits_2_with_field_errors(tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", [minilm_candidate(epochs=0)])
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"))
    assert code == 2 and "spec.candidates[0].hyperparameters.epochs" in stderr


def test_a_missing_base_model_package_exits_1(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "train.jsonl", tiny_rows(4))
    write_jsonl(tmp_path / "eval.jsonl", tiny_rows(1))
    candidate = minilm_candidate() | {"baseModel": "pkg://no-such-model-package"}
    path = manifest(tmp_path / "m.yaml", [candidate])
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"))
    assert code == 1 and "'no_such_model_package' is not installed" in stderr


@pytest.mark.parametrize("how", ["flag", "env", "manifest directory"])
def test_relative_data_uris_resolve_against_data_root_env_or_manifest_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # The data is bad on purpose: the error names the file the trainer actually read, without training.
    data = tmp_path / "data"
    _bad_data(data)
    manifests = tmp_path / "data" if how == "manifest directory" else tmp_path / "manifests"
    manifests.mkdir(exist_ok=True)
    path = manifest(manifests / "m.yaml", [minilm_candidate()])
    argv = ["--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o")]
    monkeypatch.delenv("FRONTIER_DATA_ROOT", raising=False)
    if how == "flag":
        monkeypatch.setenv("FRONTIER_DATA_ROOT", str(tmp_path / "elsewhere"))  # the flag wins
        argv += ["--data-root", str(data)]
    elif how == "env":
        monkeypatch.setenv("FRONTIER_DATA_ROOT", str(data))
    code, _, stderr = run_cli(*argv)
    assert code == 2 and str(data / "train.jsonl") in stderr


def test_train_and_eval_uris_can_be_overridden(tmp_path: Path) -> None:
    _bad_data(tmp_path / "bad")
    write_jsonl(tmp_path / "good" / "train.jsonl", tiny_rows(3))
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()],
                    dataset={"train": {"uri": "good/train.jsonl"}, "evalFraction": 0.2})
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"),
                              "--eval-uri", str(tmp_path / "bad" / "train.jsonl"))
    assert code == 2 and f"eval split {tmp_path / 'bad' / 'train.jsonl'}" in stderr


def test_bad_data_is_reported_to_the_operator_with_its_row_and_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a training Job: the DataError reaches the result ConfigMap (frontier.results), not only stderr.
    from frontier import results

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(results, "publish", lambda payload: published.append(dict(payload)) or True)
    _bad_data(tmp_path)
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()])
    code, _, _ = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"), "--resume")
    assert code == 2
    [payload] = published
    assert set(payload) == {"error"} and payload["error"]["reason"] == "DataError"
    assert payload["error"]["exitCode"] == 2 and "row 7 ('weather')" in payload["error"]["message"]
    reason, message = results.failure({"data": results.encode(payload)}) or ("", "")
    assert reason == "DataError" and "row 7 ('weather')" in message and message.endswith("(exit code 2)")


def test_a_failure_to_publish_does_not_mask_the_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from frontier import results

    def unreachable(payload: Any) -> bool:
        raise OSError("no route to the API server")

    monkeypatch.setattr(results, "publish", unreachable)
    _bad_data(tmp_path)
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()])
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"))
    assert code == 2 and "row 7 ('weather')" in stderr
    assert "could not publish the failure to the result ConfigMap: no route to the API server" in stderr


@pytest.mark.parametrize(
    ("raised", "code", "reported"),
    [
        ("TrainingInterrupted", 1, None),  # retried (and resumed): nothing to report
        ("TrainingError", 1, "TrainingError"),
        ("RuntimeError", None, "RuntimeError"),  # a bug: reported, then the traceback
    ],
)
def test_which_failures_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raised: str, code: int | None, reported: str | None
) -> None:
    from frontier import results
    from frontier.errors import TrainingError
    from frontier.trainer import loop, pipeline

    errors = {
        "TrainingInterrupted": loop.TrainingInterrupted,
        "TrainingError": TrainingError,
        "RuntimeError": RuntimeError,
    }

    def train_candidate(*args: Any, **kwargs: Any) -> None:
        raise errors[raised]("stopped")

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(results, "publish", lambda payload: published.append(dict(payload)) or True)
    monkeypatch.setattr(pipeline, "train_candidate", train_candidate)
    path = manifest(tmp_path / "m.yaml", [minilm_candidate()])
    argv = ("--manifest", str(path), "--candidate", "minilm", "--out", str(tmp_path / "o"))
    if code is None:
        with pytest.raises(RuntimeError):
            run_cli(*argv)
    else:
        assert run_cli(*argv)[0] == code
    assert [p["error"]["reason"] for p in published] == ([reported] if reported else [])
