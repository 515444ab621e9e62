"""A Job can write only its own result, on the real API server's RBAC.

The operator gives each Job an identity of its own (``jobs.job_identity``: a ServiceAccount, a Role on the
Job's result ConfigMap by name, a RoleBinding), created through ``Kube.ensure_job_identity``. With a bound
token of Job A's ServiceAccount (TokenRequest API, what the kubelet projects into A's pod), A patches its
own result and is refused everyone else's: a forged ``macroF1: 1.0`` for model B is a 403, not a promotion.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from frontier import results
from frontier.operator import jobs
from frontier.operator.k8s import Kube

from .cluster import EnvtestCluster

MERGE = {"Content-Type": "application/merge-patch+json"}
FORGED = {"data": results.encode({"metrics": {"macroF1": 1.0}})}


@pytest.fixture
def kube(cluster: EnvtestCluster) -> Iterator[Kube]:
    connected = Kube.connect(str(cluster.kubeconfig))
    yield connected
    connected.close()


def _token(cluster: EnvtestCluster, namespace: str, account: str) -> str:
    review = cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}},
    )
    return str(review["status"]["token"])


def _as(cluster: EnvtestCluster, token: str) -> EnvtestCluster:
    """The same API server seen with another bearer token (requests only: never stop() it)."""
    return dataclasses.replace(cluster, token=token, _etcd=None, _apiserver=None)


def _two_jobs(cluster: EnvtestCluster, kube: Kube, namespace: str) -> tuple[str, str]:
    """Job A (model ``a``'s training) and Job B (model ``b``'s benchmark), each with its result ConfigMap
    and its identity, as the executor creates them before the Job."""
    a = jobs.Target("a", namespace, "uid-a", 1)
    b = jobs.Target("b", namespace, "uid-b", 1)
    names = ("a-minilm-g1-train", "b-v1-bench")  # any two Jobs' names (jobs.train_job_name, bench_job_name)
    for target, name, role in ((a, names[0], "train"), (b, names[1], "bench")):
        assert kube.create_configmap(jobs.result_configmap(target, name, role))
        assert kube.ensure_job_identity(jobs.job_identity(target, name)) == 3
    return names


def test_a_job_patches_its_own_result_and_no_other(cluster: EnvtestCluster, kube: Kube, namespace: str) -> None:
    mine, theirs = _two_jobs(cluster, kube, namespace)
    job_a = _as(cluster, _token(cluster, namespace, jobs.job_identity_name(mine)))
    configmaps = f"/api/v1/namespaces/{namespace}/configmaps"

    payload = {"data": results.encode({"artifact": {"uri": "/a", "sha256": "0" * 64}})}
    status, _ = job_a.raw("PATCH", f"{configmaps}/{mine}", payload, headers=MERGE)
    assert status == 200
    assert job_a.raw("GET", f"{configmaps}/{mine}")[0] == 200
    assert results.training_artifact(cluster.request("GET", f"{configmaps}/{mine}")).uri == "/a"

    status, body = job_a.raw("PATCH", f"{configmaps}/{theirs}", FORGED, headers=MERGE)
    assert status == 403, body
    assert f"system:serviceaccount:{namespace}:{mine}" in json.loads(body)["message"]
    assert cluster.request("GET", f"{configmaps}/{theirs}").get("data") in (None, {})  # B's result untouched
    for method, path in (
        ("GET", f"{configmaps}/{theirs}"),
        ("GET", configmaps),  # no list: resourceNames cannot restrict it, so it is not granted
        ("DELETE", f"{configmaps}/{mine}"),
        ("GET", f"/api/v1/namespaces/{namespace}/secrets"),
        ("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs"),
    ):
        assert job_a.raw(method, path)[0] == 403, (method, path)
    created, _ = job_a.raw("POST", configmaps, {"metadata": {"name": "another-result"}, "data": {}})
    assert created == 403


def test_the_identity_is_created_once_and_owned_by_the_model(
    cluster: EnvtestCluster, kube: Kube, namespace: str
) -> None:
    mine, _ = _two_jobs(cluster, kube, namespace)
    target = jobs.Target("a", namespace, "uid-a", 1)
    assert kube.ensure_job_identity(jobs.job_identity(target, mine)) == 0  # 409s: already there
    for path in (
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{mine}",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{mine}",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{mine}",
    ):
        owners = cluster.request("GET", path)["metadata"]["ownerReferences"]
        assert [(o["kind"], o["name"], o["uid"], o["controller"]) for o in owners] == [
            ("ClassifierModel", "a", "uid-a", True)
        ], path
