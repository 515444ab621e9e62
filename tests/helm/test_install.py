"""The chart installed on a real API server, and the operator running *as the chart's ServiceAccount*:
the RBAC the chart grants is enough for a whole lifecycle, and not more than that.

The rendered manifests are applied as they are (CRDs, ServiceAccounts, Roles, peering objects...);
nothing runs the Deployment (envtest has no kubelet), so the test runs the operator in a thread with
the Deployment's own command line and a bound token of its ServiceAccount (TokenRequest API), and
plays the Job controller; the Jobs report their results with the *worker* ServiceAccount's token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontier.operator import entry
from frontier.operator.settings import OperatorSettings
from tests.envtest import manifests
from tests.envtest.cluster import EnvtestCluster
from tests.envtest.fake_triton import FakeTriton
from tests.envtest.standin import JobController, RunningOperator, argument, train_job, wait_for
from tests.helm.chart import operator_arguments, render
from tests.helm.install import apply, as_identity, service_account_token, write_kubeconfig

pytestmark = pytest.mark.timeout(120)

RELEASE = "frontier"  # the release namespace: operator, Triton, PVC
MODELS = "frontier-models"  # the one namespace the operator watches
ELSEWHERE = "payments"  # a namespace it has nothing to do with

MEASURED = {
    ("minilm", "fp32"): {"macroF1": 0.90, "p50Ms": 10.0, "p95Ms": 20.0, "costPer1M": 0.53, "agreement": 1.0},
    ("minilm", "int8"): {"macroF1": 0.895, "p50Ms": 5.0, "p95Ms": 9.0, "costPer1M": 0.27, "agreement": 0.995},
    ("distil", "fp32"): {"macroF1": 0.93, "p50Ms": 40.0, "p95Ms": 70.0, "costPer1M": 2.1, "agreement": 1.0},
    ("distil", "int8"): {"macroF1": 0.92, "p50Ms": 20.0, "p95Ms": 35.0, "costPer1M": 1.0, "agreement": 0.99},
}


def measured(job: dict[str, Any]) -> dict[str, Any]:
    base = MEASURED[(argument(job, "--candidate"), argument(job, "--precision"))]
    return {"accuracy": base["macroF1"], "p99Ms": base["p95Ms"] * 1.5, "throughputRps": 100.0, **base}


class WorkerJobs(JobController):
    """The stand-in Job controller, whose workloads write their results as the worker identity does
    in a pod (``frontier.results.publish``)."""

    def __init__(self, cluster: EnvtestCluster, namespace: str, worker: EnvtestCluster) -> None:
        super().__init__(cluster, namespace)
        self.worker = worker

    def _write_result(self, name: str, payload: dict[str, Any]) -> None:
        saved, self.cluster = self.cluster, self.worker
        try:
            super()._write_result(name, payload)
        finally:
            self.cluster = saved


@pytest.fixture(scope="module")
def installed(cluster: EnvtestCluster) -> list[dict[str, Any]]:
    for namespace in (RELEASE, MODELS, ELSEWHERE):
        cluster.ensure_namespace(namespace)
    documents = render({"watchNamespaces": [MODELS]}, namespace=RELEASE, include_crds=True)
    assert apply(cluster, documents) == []
    return documents


@pytest.fixture(scope="module")
def operator_identity(cluster: EnvtestCluster, installed: list[dict[str, Any]]) -> EnvtestCluster:
    return as_identity(cluster, service_account_token(cluster, RELEASE, "frontier"))


@pytest.fixture(scope="module")
def worker_identity(cluster: EnvtestCluster, installed: list[dict[str, Any]]) -> EnvtestCluster:
    return as_identity(cluster, service_account_token(cluster, MODELS, "frontier-worker"))


def pod_settings(
    cluster: EnvtestCluster, installed: list[dict[str, Any]], identity: EnvtestCluster, where: Path, triton: str
) -> OperatorSettings:
    """The Deployment's own command line; only what a pod gets from its environment differs."""
    kubeconfig = write_kubeconfig(cluster, identity.token, where / "sa-kubeconfig")
    templates = [d for d in installed if d["kind"] != "CustomResourceDefinition"]
    return entry.settings_from(operator_arguments(templates)).with_(
        kubeconfig=kubeconfig, liveness=None, metrics_port=None, resync_s=2.0, triton_endpoint=triton
    )


@pytest.fixture
def operator(
    cluster: EnvtestCluster, installed: list[dict[str, Any]], operator_identity: EnvtestCluster, tmp_path: Path
) -> Iterator[tuple[RunningOperator, FakeTriton]]:
    with FakeTriton() as triton:
        settings = pod_settings(cluster, installed, operator_identity, tmp_path, triton.url)
        assert settings.namespaces == (MODELS,) and settings.peering == "frontier"
        with RunningOperator(settings) as running:
            yield running, triton


def _model(cluster: EnvtestCluster, name: str) -> dict[str, Any]:
    return cluster.request("GET", manifests.path(MODELS, name))


def _condition(model: dict[str, Any], type_: str) -> str | None:
    conditions = (model.get("status") or {}).get("conditions") or []
    return next((c["status"] for c in conditions if c["type"] == type_), None)


def test_the_operator_with_the_charts_service_account_trains_benchmarks_promotes_and_deletes(
    cluster: EnvtestCluster,
    operator: tuple[RunningOperator, FakeTriton],
    worker_identity: EnvtestCluster,
) -> None:
    _, triton = operator
    jobs = WorkerJobs(cluster, MODELS, worker_identity)
    cluster.request("POST", manifests.path(MODELS), manifests.valid("sentiment", candidates=("minilm", "distil")))

    train = jobs.wait_jobs(2, role_="train")
    pod = train[train_job(cluster, MODELS, "sentiment")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "frontier-worker"
    assert pod["containers"][0]["image"].startswith("ghcr.io/frontier-ml/frontier-worker:")

    def ready() -> dict[str, Any] | None:
        jobs.finish_all(measured)
        model = _model(cluster, "sentiment")
        return model if _condition(model, "Ready") == "True" else None

    model = wait_for(ready, 60, 0.2, what="sentiment Ready")
    status = model["status"]
    assert status["phase"] == "Ready" and status["observedGeneration"] == 1
    assert _condition(model, "Promoted") == "True" and len(status["versions"]) == 4
    assert (status["promoted"]["candidate"], status["promoted"]["precision"]) == ("minilm", "int8")
    wait_for(lambda: triton.loaded.get("sentiment") == [status["promoted"]["version"]], what="Triton load")
    assert "frontier.dev/finalizer" in model["metadata"]["finalizers"]
    events = cluster.request("GET", f"/api/v1/namespaces/{MODELS}/events")["items"]
    assert any(e["involvedObject"]["name"] == "sentiment" for e in events), "the operator could not post Events"
    peering = cluster.request("GET", f"/apis/kopf.dev/v1/namespaces/{MODELS}/kopfpeerings/frontier")
    assert peering.get("status"), "the operator's keep-alive is missing from its KopfPeering"

    cluster.request("DELETE", manifests.path(MODELS, "sentiment"))

    def gone() -> bool:
        return cluster.raw("GET", manifests.path(MODELS, "sentiment"))[0] == 404

    wait_for(gone, 30, what="deletion (finalizer removed)")
    assert jobs.jobs() == {} and "sentiment" not in triton.loaded
    configmaps = cluster.request("GET", f"/api/v1/namespaces/{MODELS}/configmaps?labelSelector=frontier.dev/model")
    assert configmaps["items"] == []


def _peering_state(caplog: pytest.LogCaptureFixture, replica: str) -> str:
    """A replica starts paused (its peering is mandatory) and logs only its changes of state."""
    said = [r.getMessage() for r in caplog.records if r.threadName == replica and r.name.endswith("peering")]
    changes = [m for m in said if m.startswith(("Pausing", "Resuming"))]
    return "active" if changes and changes[-1].startswith("Resuming") else "paused"


def _handled_by(caplog: pytest.LogCaptureFixture, name: str) -> set[str]:
    """The replicas whose handlers logged about the ClassifierModel ``name``."""
    return {
        r.threadName
        for r in caplog.records
        if r.name == "kopf.objects" and (getattr(r, "k8s_ref", None) or {}).get("name") == name
    }


def test_two_replicas_started_together_elect_one_and_only_it_works(
    cluster: EnvtestCluster,
    installed: list[dict[str, Any]],
    operator_identity: EnvtestCluster,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Both replicas of the Deployment run the same command line: kopf pauses *every* peer of equal
    # priority, so the operator must not give them the same one (entry.peering_priority).
    caplog.set_level(logging.INFO, logger="kopf")
    jobs = JobController(cluster, MODELS)
    with FakeTriton() as triton:
        settings = pod_settings(cluster, installed, operator_identity, tmp_path, triton.url)
        replicas = [RunningOperator(settings.with_(identity=name), name=name) for name in ("replica-a", "replica-b")]
        for replica in replicas:  # in the same instant, as a Deployment's pods may well start
            replica.start()
        try:
            for replica in replicas:
                replica.wait_ready()
            path = f"/apis/kopf.dev/v1/namespaces/{MODELS}/kopfpeerings/frontier"
            wait_for(lambda: len(cluster.request("GET", path).get("status") or {}) == 2, what="two peers")
            peers = cluster.request("GET", path)["status"]
            priorities = {name: peers[name]["priority"] for name in ("replica-a", "replica-b")}
            assert priorities["replica-a"] != priorities["replica-b"]
            leader = max(priorities, key=lambda name: priorities[name])
            standby = min(priorities, key=lambda name: priorities[name])

            def elected() -> bool:
                return _peering_state(caplog, leader) == "active" and _peering_state(caplog, standby) == "paused"

            wait_for(elected, what=f"{leader} (priority {priorities[leader]}) active, {standby} paused")
            assert "Possibly conflicting operators with the same priority" not in caplog.text

            cluster.request("POST", manifests.path(MODELS), manifests.valid("elected", export={"precisions": ["fp32"]}))
            assert list(jobs.wait_jobs(1, role_="train")) == [train_job(cluster, MODELS, "elected")]
            wait_for(lambda: leader in _handled_by(caplog, "elected"), what=f"{leader} to handle the model")
            time.sleep(3 * settings.resync_s)  # the standby would have acted by now: every resync reconciles
            assert _handled_by(caplog, "elected") == {leader}
            cluster.request("DELETE", manifests.path(MODELS, "elected"))
            wait_for(lambda: cluster.raw("GET", manifests.path(MODELS, "elected"))[0] == 404, what="deletion")
        finally:
            for replica in replicas:
                replica.stop()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/v1/namespaces/{ELSEWHERE}/secrets"),
        ("GET", f"/api/v1/namespaces/{MODELS}/secrets"),
        ("GET", f"/api/v1/namespaces/{RELEASE}/secrets"),
        ("GET", "/api/v1/nodes"),
        ("GET", f"/api/v1/namespaces/{MODELS}/pods"),
        ("GET", f"/apis/batch/v1/namespaces/{ELSEWHERE}/jobs"),
        ("GET", f"/apis/frontier.dev/v1alpha1/namespaces/{ELSEWHERE}/classifiermodels"),
        ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles"),
        ("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{MODELS}/rolebindings"),
    ],
)
def test_the_operators_service_account_is_refused_everything_else(
    operator_identity: EnvtestCluster, method: str, path: str
) -> None:
    body = None
    if method == "POST":
        kind = "ClusterRole" if path.endswith("clusterroles") else "RoleBinding"
        body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": {"name": "x"}, "rules": []}
    status, _ = operator_identity.raw(method, path, body)
    assert status == 403


def test_the_operators_service_account_can_do_its_job(operator_identity: EnvtestCluster) -> None:
    for path in (
        f"/apis/frontier.dev/v1alpha1/namespaces/{MODELS}/classifiermodels",
        f"/apis/batch/v1/namespaces/{MODELS}/jobs",
        f"/api/v1/namespaces/{MODELS}/configmaps",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    ):
        assert operator_identity.raw("GET", path)[0] == 200, path


def test_the_worker_service_account_can_only_patch_configmaps(
    cluster: EnvtestCluster, worker_identity: EnvtestCluster
) -> None:
    cluster.request(
        "POST", f"/api/v1/namespaces/{MODELS}/configmaps", {"metadata": {"name": "result-probe"}, "data": {}}
    )
    patched, _ = worker_identity.raw(
        "PATCH",
        f"/api/v1/namespaces/{MODELS}/configmaps/result-probe",
        {"data": {"result.json": "{}"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched == 200
    assert worker_identity.raw("GET", f"/api/v1/namespaces/{MODELS}/configmaps/result-probe")[0] == 403
    assert worker_identity.raw("GET", f"/api/v1/namespaces/{MODELS}/secrets")[0] == 403
    assert worker_identity.raw("GET", f"/apis/batch/v1/namespaces/{MODELS}/jobs")[0] == 403


def test_a_cluster_wide_install_reads_models_everywhere_and_secrets_nowhere(cluster: EnvtestCluster) -> None:
    cluster.ensure_namespace("fleet")
    values = {"metrics": {"serviceMonitor": {"enabled": True}}}
    documents = render(values, namespace="fleet", release="fleet", include_crds=True)
    assert apply(cluster, documents) == ["ServiceMonitor"]  # no prometheus-operator CRD in envtest
    fleet = as_identity(cluster, service_account_token(cluster, "fleet", "fleet-frontier"))
    assert fleet.raw("GET", "/apis/frontier.dev/v1alpha1/classifiermodels")[0] == 200
    assert fleet.raw("GET", "/apis/kopf.dev/v1/clusterkopfpeerings/frontier")[0] == 200
    assert fleet.raw("GET", f"/api/v1/namespaces/{ELSEWHERE}/secrets")[0] == 403
    assert fleet.raw("GET", "/api/v1/nodes")[0] == 403
