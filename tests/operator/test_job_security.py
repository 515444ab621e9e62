"""What a Job's pod may do, offline: the ``restricted`` Pod Security Standard's fields on every Job, each Job's
own identity (a ServiceAccount that may write its own result only), and results that cannot lie in numbers.
The same pods go through the real API server's PodSecurity admission in tests/envtest/test_pod_security.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

from frontier import results
from frontier.operator import jobs
from frontier.operator.settings import OperatorSettings
from tests.envtest.job_templates import every_job

ALL = every_job("ml")


@pytest.mark.parametrize("role", sorted(ALL))
def test_every_pod_runs_restricted(role: str) -> None:
    pod = ALL[role]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert {"name": "scratch", "emptyDir": {}} in pod["volumes"]
    for container in pod["containers"]:
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert {"name": "scratch", "mountPath": "/tmp"} in container["volumeMounts"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        for variable in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "HF_HOME", "TORCH_HOME", "MPLCONFIGDIR"):
            assert env[variable].startswith("/tmp"), variable
        assert env["PYTHONDONTWRITEBYTECODE"] == "1"
        names = [e["name"] for e in container["env"]]
        assert len(names) == len(set(names))


def test_only_the_jobs_that_write_a_result_get_a_token_and_each_its_own_identity() -> None:
    for role in ("train", "train-gpu", "bench"):
        job = ALL[role]
        pod = job["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is True
        assert pod["serviceAccountName"] == jobs.job_identity_name(job["metadata"]["name"]) == job["metadata"]["name"]
    purge = ALL["purge"]["spec"]["template"]["spec"]
    assert purge["automountServiceAccountToken"] is False and "serviceAccountName" not in purge


def test_a_fixed_service_account_and_other_ids_from_the_settings() -> None:
    settings = OperatorSettings(service_account="shared", run_as_user=65532, run_as_group=65533, fs_group=65534)
    for role, job in every_job("ml", settings).items():
        pod = job["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "shared", role
        context = pod["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (65532, 65533, 65534)


def test_a_jobs_identity_may_read_and_patch_its_own_result_only() -> None:
    target = jobs.Target("sentiment", "ml", "uid-1", 2)
    name = jobs.train_job_name(target, "minilm", 2)
    account, role, binding = jobs.job_identity(target, name)
    assert [o["kind"] for o in (account, role, binding)] == ["ServiceAccount", "Role", "RoleBinding"]
    for document in (account, role, binding):
        assert document["metadata"]["name"] == name and document["metadata"]["namespace"] == "ml"
        assert document["metadata"]["ownerReferences"] == [jobs.owner_reference(target)]
        assert document["metadata"]["labels"][jobs.LABEL_JOB] == name
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [name], "verbs": ["get", "patch"]}
    ]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": "ml"}]
    assert account["metadata"] is not role["metadata"]  # three objects, not one shared dict


METRICS = {
    "macroF1": 0.9,
    "accuracy": 0.9,
    "p50Ms": 5.0,
    "p95Ms": 9.0,
    "p99Ms": 12.0,
    "throughputRps": 100.0,
    "costPer1M": 0.5,
}


def _configmap(metrics: Any) -> dict[str, Any]:
    """A benchmark Job's result: one measured version, v1."""
    return {"data": {results.RESULT_KEY: json.dumps({"metrics": {"1": metrics}})}}


def test_finite_metrics_in_range_are_read() -> None:
    assert results.benchmark_metrics(_configmap(METRICS))[1].macro_f1 == 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"macroF1": float("nan")}, "metrics.1.macroF1 is not a finite number"),
        ({"p95Ms": float("inf")}, "metrics.1.p95Ms is not a finite number"),
        ({"costPer1M": float("-inf")}, "metrics.1.costPer1M is not a finite number"),
        ({"maxAbsLogitDelta": "Infinity"}, "metrics.1.maxAbsLogitDelta is not a finite number"),
        ({"throughputRps": "NaN"}, "metrics.1.throughputRps is not a finite number"),
        ({"extra": {"deep": [1.0, float("nan")]}}, r"metrics.1.extra.deep\[1\] is not a finite number"),
        ({"macroF1": 1.5}, "macroF1: Input should be less than or equal to 1"),
        ({"agreement": -0.1}, "agreement: Input should be greater than or equal to 0"),
        ({"p50Ms": -1.0}, "p50Ms: Input should be greater than or equal to 0"),
        ({"p50Ms": 20.0}, r"metrics.1.p50Ms <= p95Ms <= p99Ms does not hold"),
        ({"errors": -3}, "errors: Input should be greater than or equal to 0"),
    ],
)
def test_non_finite_or_out_of_range_metrics_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(results.ResultError, match=message):
        results.benchmark_metrics(_configmap({**METRICS, **change}))


@pytest.mark.parametrize(("payload", "message"), [({}, "no metrics per version"), ({"v1": METRICS}, "not a version")])
def test_a_result_that_does_not_name_versions_is_refused(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(results.ResultError, match=message):
        results.benchmark_metrics({"data": {results.RESULT_KEY: json.dumps({"metrics": payload})}})
