"""The chart installed on a real API server, and the operator running *as the chart's ServiceAccount*:
the RBAC the chart grants is enough for a whole lifecycle, and not more than that.

The rendered manifests are applied as they are (CRDs, ServiceAccounts, Roles, peering objects...);
nothing runs the Deployment (envtest has no kubelet), so the test runs the operator in a thread with
the Deployment's own command line and a bound token of its ServiceAccount (TokenRequest API), and
plays the Job controller; each Job reports its result with a token of *its own* ServiceAccount, the one
the operator made for it (``jobs.job_identity``), which may patch that one ConfigMap and nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from frontier.operator import entry
from frontier.operator import jobs as jobs_
from frontier.operator.k8s import Kube
from frontier.operator.settings import OperatorSettings
from tests.envtest import manifests
from tests.envtest.cluster import EnvtestCluster
from tests.envtest.fake_triton import FakeTriton
from tests.envtest.standin import JobController, RunningOperator, train_job, wait_for
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


def measured(contender: dict[str, Any]) -> dict[str, Any]:
    base = MEASURED[(contender["candidate"], contender["precision"])]
    return {"accuracy": base["macroF1"], "p99Ms": base["p95Ms"] * 1.5, "throughputRps": 100.0, **base}


class WorkerJobs(JobController):
    """The stand-in Job controller, whose workloads write their results as each Job's pod does
    (``frontier.results.publish``): with a bound token of the pod's own ServiceAccount."""

    def _write_result(self, name: str, payload: dict[str, Any]) -> None:
        job = self.cluster.request("GET", f"/apis/batch/v1/namespaces/{self.namespace}/jobs/{name}")
        account = job["spec"]["template"]["spec"]["serviceAccountName"]
        token = service_account_token(self.cluster, self.namespace, account)
        saved, self.cluster = self.cluster, as_identity(self.cluster, token)
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
) -> None:
    _, triton = operator
    jobs = WorkerJobs(cluster, MODELS)
    cluster.request("POST", manifests.path(MODELS), manifests.valid("sentiment", candidates=("minilm", "distil")))

    train = jobs.wait_jobs(2, role_="train")
    pod = train[train_job(cluster, MODELS, "sentiment")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == train_job(cluster, MODELS, "sentiment")  # its own (jobs.job_identity)
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
    served = status["serving"]["modelName"]
    assert served == f"{MODELS}__sentiment".replace("-", "_")  # one name per namespace and resource
    wait_for(lambda: triton.loaded.get(served) == [status["promoted"]["version"]], what="Triton load")
    assert "frontier.dev/finalizer" in model["metadata"]["finalizers"]
    events = cluster.request("GET", f"/api/v1/namespaces/{MODELS}/events")["items"]
    assert any(e["involvedObject"]["name"] == "sentiment" for e in events), "the operator could not post Events"
    peering = cluster.request("GET", f"/apis/kopf.dev/v1/namespaces/{MODELS}/kopfpeerings/frontier")
    assert peering.get("status"), "the operator's keep-alive is missing from its KopfPeering"

    cluster.request("DELETE", manifests.path(MODELS, "sentiment"))

    def gone() -> bool:
        return cluster.raw("GET", manifests.path(MODELS, "sentiment"))[0] == 404

    wait_for(gone, 30, what="deletion (finalizer removed)")
    assert jobs.jobs() == {} and served not in triton.loaded
    configmaps = cluster.request("GET", f"/api/v1/namespaces/{MODELS}/configmaps?labelSelector=frontier.dev/model")
    assert configmaps["items"] == []


@dataclass
class PeeringView:
    """What each replica's kopf made of the KopfPeering, by replica (thread) name: the peers it has
    seen and its pause toggle. Logs cannot tell these apart: kopf logs only *changes* of state, and a
    replica starts paused, so a standby that has not yet processed its first peering event looks
    like one that saw the leader and stayed paused; the first may still resume on a stale view."""

    seen: dict[str, set[str]] = field(default_factory=dict)
    paused: dict[str, Any] = field(default_factory=dict)  # kopf's aiotoggles.Toggle

    def states(self) -> dict[str, bool]:
        return {replica: toggle.is_on() for replica, toggle in self.paused.items()}

    def settled(self, leader: str, standby: str) -> bool:
        return (
            leader in self.seen.get(standby, set())
            and standby in self.paused
            and self.paused[standby].is_on()
            and leader in self.paused
            and self.paused[leader].is_off()
        )


@pytest.fixture
def peering_view(monkeypatch: pytest.MonkeyPatch) -> PeeringView:
    """Wraps kopf's peering processor, which every replica binds when it starts."""
    from kopf._core.engines import peering

    view = PeeringView()
    original = peering.process_peering_event

    async def observed(*, raw_event: Any, conflicts_found: Any = None, **kwargs: Any) -> None:
        replica = threading.current_thread().name
        if conflicts_found is not None:  # the replica's own peering, not an observer
            view.seen.setdefault(replica, set()).update(raw_event["object"].get("status") or {})
            view.paused[replica] = conflicts_found
        await original(raw_event=raw_event, conflicts_found=conflicts_found, **kwargs)

    monkeypatch.setattr(peering, "process_peering_event", observed)
    return view


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
    peering_view: PeeringView,
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

            wait_for(
                lambda: peering_view.settled(leader, standby),
                what=f"{leader} (priority {priorities[leader]}) active, {standby} paused having seen it",
            )
            assert "Possibly conflicting operators with the same priority" not in caplog.text

            cluster.request("POST", manifests.path(MODELS), manifests.valid("elected", export={"precisions": ["fp32"]}))
            assert list(jobs.wait_jobs(1, role_="train")) == [train_job(cluster, MODELS, "elected")]
            wait_for(lambda: leader in _handled_by(caplog, "elected"), what=f"{leader} to handle the model")
            time.sleep(3 * settings.resync_s)  # the standby would have acted by now: every resync reconciles
            peering_log = [f"{r.threadName}: {r.getMessage()}" for r in caplog.records if r.name.endswith("peering")]
            assert _handled_by(caplog, "elected") == {leader}, (
                f"peers seen {peering_view.seen}, paused {peering_view.states()}; peering log {peering_log}"
            )
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
        # It creates a Role and a RoleBinding per Job, but can grant no more than it holds itself:
        ("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{MODELS}/roles"),  # secrets: escalation
        ("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{MODELS}/rolebindings"),  # to cluster-admin
        ("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ELSEWHERE}/rolebindings"),
        ("POST", f"/api/v1/namespaces/{ELSEWHERE}/serviceaccounts"),
    ],
)
def test_the_operators_service_account_is_refused_everything_else(
    operator_identity: EnvtestCluster, method: str, path: str
) -> None:
    rbac = "rbac.authorization.k8s.io/v1"
    body: dict[str, Any] | None = None
    if path.endswith("clusterroles"):
        body = {"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": "x"}, "rules": []}
    elif path.endswith("/roles"):
        rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
        body = {"apiVersion": rbac, "kind": "Role", "metadata": {"name": "x"}, "rules": [rule]}
    elif path.endswith("rolebindings"):
        body = {
            "apiVersion": rbac,
            "kind": "RoleBinding",
            "metadata": {"name": "x"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": MODELS}],
        }
    elif path.endswith("serviceaccounts"):
        body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}}
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


def test_the_operator_gives_each_job_an_identity_that_patches_its_own_result_only(
    cluster: EnvtestCluster, operator_identity: EnvtestCluster, tmp_path: Path
) -> None:
    # As the chart's operator ServiceAccount (not admin): the chart's RBAC lets it create a Job's identity.
    kube = Kube.connect(write_kubeconfig(cluster, operator_identity.token, tmp_path / "operator-kubeconfig"))
    try:
        names = []
        for model in ("probe-a", "probe-b"):
            target = jobs_.Target(model, MODELS, f"uid-{model}", 1)
            name = f"{model}-minilm-g1-train"
            assert kube.create_configmap(jobs_.result_configmap(target, name, "train"))
            assert kube.ensure_job_identity(jobs_.job_identity(target, name)) == 3
            names.append(name)
    finally:
        kube.close()
    mine, theirs = names
    job = as_identity(cluster, service_account_token(cluster, MODELS, jobs_.job_identity_name(mine)))
    configmaps = f"/api/v1/namespaces/{MODELS}/configmaps"
    merge = {"Content-Type": "application/merge-patch+json"}
    assert job.raw("PATCH", f"{configmaps}/{mine}", {"data": {"result.json": "{}"}}, headers=merge)[0] == 200
    assert job.raw("PATCH", f"{configmaps}/{theirs}", {"data": {"result.json": "{}"}}, headers=merge)[0] == 403
    assert job.raw("GET", f"{configmaps}/{theirs}")[0] == 403
    assert job.raw("GET", f"/api/v1/namespaces/{MODELS}/secrets")[0] == 403
    assert job.raw("GET", f"/apis/batch/v1/namespaces/{MODELS}/jobs")[0] == 403


def test_the_charts_own_pods_are_admitted_under_restricted(
    cluster: EnvtestCluster, installed: list[dict[str, Any]]
) -> None:
    # PodSecurity only warns about a Deployment; its pods are what a namespace enforcing restricted
    # (as the release namespace does here) admits or refuses: the pod each template makes, dry-run.
    deployments = [d for d in installed if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} == {"frontier", "triton"}
    for deployment in deployments:
        template = deployment["spec"]["template"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": deployment["metadata"]["name"]}}
        pod["spec"] = template["spec"]
        status, body = cluster.raw("POST", f"/api/v1/namespaces/{RELEASE}/pods?dryRun=All", pod)
        assert status == 201, body[:500]


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
