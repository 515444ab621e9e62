"""Every Job template the operator makes runs under the ``restricted`` Pod Security Standard, as judged by the
real API server's PodSecurity admission.

PodSecurity checks Pods (for Jobs it only warns), and envtest runs no Job controller: each Job's pod
template is wrapped in the Pod that controller would create and sent with a server-side dry run
(``dryRun=All``: admitted or refused, never stored) into a namespace enforcing ``restricted``. The negative
control proves the check bites: the same pod without its security contexts is refused with 403.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .cluster import POD_SECURITY_ENFORCE, ApiError, EnvtestCluster
from .job_templates import as_pod, every_job

DRY_RUN = "?dryRun=All&fieldValidation=Strict"


def _dry_run(cluster: EnvtestCluster, pod: dict[str, Any]) -> dict[str, Any]:
    return cluster.request("POST", f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods{DRY_RUN}", pod)


def test_the_namespaces_tests_make_enforce_restricted(cluster: EnvtestCluster, namespace: str) -> None:
    labels = cluster.request("GET", f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
    assert labels[POD_SECURITY_ENFORCE] == "restricted"


@pytest.mark.parametrize("role", ["train", "train-gpu", "bench", "baseline", "purge"])
def test_every_job_pod_is_admitted_under_restricted(cluster: EnvtestCluster, namespace: str, role: str) -> None:
    job = every_job(namespace)[role]
    pod = _dry_run(cluster, as_pod(job, f"{role}-pod"))
    assert pod["metadata"]["namespace"] == namespace
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert cluster.raw("GET", f"/api/v1/namespaces/{namespace}/pods/{role}-pod")[0] == 404  # a dry run stores nothing


def _without_security(pod: dict[str, Any]) -> dict[str, Any]:
    bare = copy.deepcopy(pod)
    bare["spec"].pop("securityContext")
    for container in bare["spec"]["containers"]:
        container.pop("securityContext")
    return bare


@pytest.mark.parametrize("role", ["train", "purge"])
def test_the_same_pod_without_its_security_contexts_is_refused(
    cluster: EnvtestCluster, namespace: str, role: str
) -> None:
    pod = _without_security(as_pod(every_job(namespace)[role], f"{role}-bare"))
    with pytest.raises(ApiError) as refused:
        _dry_run(cluster, pod)
    assert refused.value.status == 403
    message = refused.value.message
    assert 'violates PodSecurity "restricted:latest"' in message
    for broken in ("allowPrivilegeEscalation != false", "unrestricted capabilities", "runAsNonRoot != true"):
        assert broken in message, message
    assert "seccompProfile" in message


@pytest.mark.parametrize(
    ("field", "value", "broken"),
    [
        ("runAsUser", 0, "runAsUser=0"),
        ("seccompProfile", {"type": "Unconfined"}, "seccompProfile"),
    ],
)
def test_one_weakened_field_is_enough_to_be_refused(
    cluster: EnvtestCluster, namespace: str, field: str, value: Any, broken: str
) -> None:
    pod = as_pod(every_job(namespace)["bench"], "bench-weak")
    pod["spec"]["securityContext"][field] = value
    with pytest.raises(ApiError) as refused:
        _dry_run(cluster, pod)
    assert refused.value.status == 403 and broken in refused.value.message


def test_a_privileged_namespace_would_have_admitted_the_bare_pod(cluster: EnvtestCluster, namespace: str) -> None:
    # The control of the control: the refusal above is the namespace's enforcement, not a broken pod.
    open_namespace = f"{namespace}-open"[:63]
    cluster.ensure_namespace(open_namespace, pod_security=None)
    pod = _without_security(as_pod(every_job(open_namespace)["train"], "train-bare"))
    assert _dry_run(cluster, pod)["metadata"]["name"] == "train-bare"
