"""Failures say why, on the real API server: the error a training Job's workload publishes into its
result ConfigMap (a DataError with its row, and the exit code) becomes the version's reason and message and
a Warning Event; the Job the API server stores carries the podFailurePolicy the operator built.

The stand-in Job controller plays the kubelet and the Job controller (``standin.JobController``); in the
last test the Job's own container command (``frontier train``) runs for real on bad data
(``workload.LocalWorkload``) and writes its result ConfigMap itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from frontier import results
from frontier.operator.settings import OperatorSettings

from . import manifests
from .cluster import EnvtestCluster
from .standin import JobController, RunningOperator, wait_for
from .workload import LocalWorkload

pytestmark = pytest.mark.timeout(120)

DATA_ERROR = (
    "train split /data/train.jsonl: 1 row(s) have a label not in spec.labels [negative, positive]: row 7 ('weather')"
)
POLICY_MESSAGE = "Container train for pod {ns}/{job}-abcde failed with exit code 2 matching FailJob rule at index 0"


@pytest.fixture
def settings(settings: OperatorSettings, tmp_path: Path) -> OperatorSettings:
    """The envtest operator's settings, with artifacts on this test's own disk (the real trainer writes there)."""
    return settings.with_(artifacts=str(tmp_path / "artifacts"))


def model(cluster: EnvtestCluster, namespace: str, name: str) -> dict[str, Any]:
    return cluster.request("GET", manifests.path(namespace, name))


def failed_version(cluster: EnvtestCluster, namespace: str, name: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found = (model(cluster, namespace, name).get("status") or {}).get("versions") or []
        return found[0] if found and found[0]["state"] == "Failed" else None

    return dict(wait_for(check, 40, 0.2, what=f"{name} v1 Failed"))


def warning(cluster: EnvtestCluster, namespace: str, name: str, reason: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        listed = cluster.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"]
        found = [e for e in listed if e["involvedObject"]["name"] == name and e["reason"] == reason]
        return found[0] if found else None

    event = dict(wait_for(check, 20, 0.2, what=f"a {reason} Event"))
    assert event["type"] == "Warning"
    return event


def write_result(cluster: EnvtestCluster, namespace: str, job: str, payload: dict[str, Any]) -> None:
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/{job}",
        {"data": results.encode(payload)},
        headers={"Content-Type": "application/merge-patch+json"},
    )


def only_training_job(jobs: JobController) -> dict[str, Any]:
    [job] = jobs.wait_jobs(1, role_="train").values()
    return job


def test_a_data_error_and_its_exit_code_reach_the_version_and_a_warning_event(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    cluster.request("POST", manifests.path(namespace), manifests.valid("baddata", export={"precisions": ["fp32"]}))
    job = only_training_job(jobs)
    name = job["metadata"]["name"]
    # what the server stored: the policy that failed this Job at once instead of retrying it
    rules = job["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["action"] == "FailJob" and rules[0]["onExitCodes"]["values"] == [2]
    assert rules[1]["action"] == "Ignore" and rules[1]["onPodConditions"][0]["type"] == "DisruptionTarget"
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert "--resume" in command and command[command.index("--checkpoint-dir") + 1].endswith(".checkpoints")

    # the workload wrote its error, then the Job controller failed the Job by the pod failure policy
    write_result(cluster, namespace, name, results.failure_payload("DataError", DATA_ERROR, 2))
    jobs.fail(job, "PodFailurePolicy", POLICY_MESSAGE.format(ns=namespace, job=name))

    version = failed_version(cluster, namespace, "baddata")
    assert version["reason"] == "DataError"
    assert version["message"] == f"Job {name}: {DATA_ERROR} (exit code 2)"
    event = warning(cluster, namespace, "baddata", "TrainingFailed")
    assert "DataError" in event["message"] and "row 7 ('weather')" in event["message"]
    assert "(exit code 2)" in event["message"]


def test_without_a_published_error_the_job_controllers_reason_stands(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    cluster.request("POST", manifests.path(namespace), manifests.valid("oom", export={"precisions": ["fp32"]}))
    job = only_training_job(jobs)
    jobs.fail(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit")  # e.g. OOM-killed
    version = failed_version(cluster, namespace, "oom")
    assert version["reason"] == "BackoffLimitExceeded" and "backoff limit" in version["message"]


@pytest.mark.ml  # `frontier train` imports torch before it reads the data
def test_frontier_train_on_bad_data_fails_its_version_with_the_row(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController, tmp_path: Path
) -> None:
    data = tmp_path / "data" / "train.jsonl"
    data.parent.mkdir()
    rows = [{"text": f"text {i}", "label": ["negative", "positive"][i % 2]} for i in range(6)]
    data.write_text("".join(json.dumps(r) + "\n" for r in [*rows, {"text": "sunny", "label": "weather"}]))
    manifest = manifests.valid("realbad", export={"precisions": ["fp32"]})
    manifest["spec"]["dataset"] = {"train": {"uri": str(data)}, "evalFraction": 0.2}
    cluster.request("POST", manifests.path(namespace), manifest)
    job = only_training_job(jobs)
    workload = LocalWorkload(cluster, tmp_path / "work", timeout_s=90)

    outcome = jobs.execute(job, workload)  # the Job's own command, on this machine

    assert outcome.returncode == 2, workload.report()
    written = cluster.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{job['metadata']['name']}")
    error = json.loads(written["data"][results.RESULT_KEY])["error"]
    assert (error["reason"], error["exitCode"]) == ("DataError", 2) and "row 7 ('weather')" in error["message"]
    version = failed_version(cluster, namespace, "realbad")
    assert version["reason"] == "DataError"
    assert f"train split {data}" in version["message"] and "row 7 ('weather')" in version["message"]
    assert version["message"].endswith("(exit code 2)")
    warning(cluster, namespace, "realbad", "TrainingFailed")
