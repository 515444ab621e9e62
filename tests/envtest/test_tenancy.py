"""Many teams, one operator: resources never share Jobs, names or results (issue: tenancy and faults)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from frontier.operator.settings import OperatorSettings

from . import manifests
from .cluster import ApiError, EnvtestCluster
from .fake_triton import FakeTriton
from .standin import JobController, RunningOperator, train_job, wait_for
from .test_operator import condition, events, get

METRICS = {"macroF1": 0.9, "accuracy": 0.9, "p50Ms": 5.0, "p95Ms": 9.0, "p99Ms": 12.0, "throughputRps": 100.0,
           "costPer1M": 0.3, "agreement": 1.0}

pytestmark = pytest.mark.timeout(120)


def test_resources_whose_joined_names_collide_each_train_and_promote_their_own(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator
) -> None:
    # "sentiment-fast" + "minilm" and "sentiment" + "fast-minilm" both read sentiment-fast-minilm.
    cluster.request("POST", manifests.path(namespace), manifests.valid("sentiment-fast", candidates=("minilm",)))
    cluster.request("POST", manifests.path(namespace), manifests.valid("sentiment", candidates=("fast-minilm",)))
    jobs = JobController(cluster, namespace)
    trains = jobs.wait_jobs(2, role_="train")
    assert set(trains) == {
        train_job(cluster, namespace, "sentiment-fast", "minilm"),
        train_job(cluster, namespace, "sentiment", "fast-minilm"),
    }

    def both_ready() -> bool:
        jobs.finish_all(lambda contender: dict(METRICS))
        return all(
            condition(get(cluster, namespace, name), "Ready").get("status") == "True"
            for name in ("sentiment-fast", "sentiment")
        )

    wait_for(both_ready, 40, 0.2, what="both models Ready")


def test_a_job_name_held_by_another_owner_is_an_event_and_a_condition_never_silence(
    cluster: EnvtestCluster, namespace: str, settings: OperatorSettings
) -> None:
    cluster.request("POST", manifests.path(namespace), manifests.valid("squatted", export={"precisions": ["fp32"]}))
    name = train_job(cluster, namespace, "squatted")
    squatter = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                }
            }
        },
    }
    cluster.request("POST", f"/apis/batch/v1/namespaces/{namespace}/jobs", squatter)
    with RunningOperator(settings):

        def conflicted() -> dict[str, Any] | None:
            model = get(cluster, namespace, "squatted")
            return model if condition(model, "Degraded").get("reason") == "JobNameConflict" else None

        model = wait_for(conflicted, what="a JobNameConflict condition")
        assert name in condition(model, "Degraded")["message"]
        warned = wait_for(
            lambda: [e for e in events(cluster, namespace, "squatted") if e["reason"] == "JobNameConflict"],
            what="a JobNameConflict Event",
        )
        assert warned[0]["type"] == "Warning"
    squatter_now = cluster.request("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
    assert not squatter_now["metadata"].get("ownerReferences")  # the other owner's Job is untouched


def test_the_same_name_in_two_namespaces_serves_under_two_names(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str
) -> None:
    other = f"{namespace}-b"[:63]
    cluster.ensure_namespace(other)
    settings = OperatorSettings(
        namespaces=(namespace, other), kubeconfig=str(cluster.kubeconfig), resync_s=2.0, liveness=None,
        metrics_port=None, worker_image="frontier-worker:test",
    )
    with RunningOperator(settings):
        for ns in (namespace, other):
            cluster.request("POST", manifests.path(ns), manifests.valid("my-model", export={"precisions": ["fp32"]}))
        served = {
            ns: wait_for(lambda ns=ns: (get(cluster, ns, "my-model").get("status") or {}).get("serving"), what=ns)
            for ns in (namespace, other)
        }
    assert served[namespace]["modelName"] != served[other]["modelName"]
    assert served[namespace]["modelName"] == f"{namespace}__my_model".replace("-", "_")


def test_a_declared_model_name_another_resource_holds_is_a_conflict_that_touches_nothing_of_the_holder(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str
) -> None:
    other = f"{namespace}-b"[:63]
    cluster.ensure_namespace(other)
    settings = OperatorSettings(
        namespaces=(namespace, other), kubeconfig=str(cluster.kubeconfig), resync_s=1.0, liveness=None,
        metrics_port=None, worker_image="frontier-worker:test",
    )
    with FakeTriton() as triton, RunningOperator(settings):
        serving = {"endpoint": triton.url, "modelName": "shared"}
        spec = {"export": {"precisions": ["fp32"]}, "serving": serving}
        cluster.request("POST", manifests.path(namespace), manifests.valid("holder", **spec))
        holder_jobs = JobController(cluster, namespace)

        def holder_serves() -> bool:
            holder_jobs.finish_all(lambda contender: dict(METRICS))
            return triton.loaded.get("shared") == [1]

        wait_for(holder_serves, 40, 0.2, what="the holder promoted and served as 'shared'")
        cluster.request("POST", manifests.path(other), manifests.valid("newcomer", **spec))

        def conflicted() -> dict[str, Any] | None:
            model = get(cluster, other, "newcomer")
            return model if condition(model, "Degraded").get("reason") == "NameConflict" else None

        model = wait_for(conflicted, what="NameConflict on the newcomer")
        assert f"{namespace}/holder" in condition(model, "Degraded")["message"]
        assert condition(model, "Ready")["status"] == "False"
        assert JobController(cluster, other).jobs() == {}  # nothing trained, published or served
        calls_before = len(triton.calls)
        cluster.request("DELETE", manifests.path(other, "newcomer"))
        wait_for(lambda: _gone(cluster, other, "newcomer"), what="the newcomer deleted")
        unloads = [c for c in triton.calls[calls_before:] if "unload" in c[1]]
        assert unloads == [] and triton.loaded.get("shared") == [1]  # the holder still serves


def _gone(cluster: EnvtestCluster, namespace: str, name: str) -> bool:
    try:
        get(cluster, namespace, name)
    except ApiError:
        return True
    return False


def test_a_manifest_outside_the_admins_policy_gets_a_condition_naming_the_field_and_no_job(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, settings: OperatorSettings
) -> None:
    manifest = manifests.valid("outsider", export={"precisions": ["fp32"]})
    manifest["spec"]["candidates"][0]["image"] = "registry.evil.example/miner:1"
    cluster.request("POST", manifests.path(namespace), manifest)
    policy = settings.with_(allowed_images=("frontier-worker",))
    with RunningOperator(policy):

        def refused() -> dict[str, Any] | None:
            model = get(cluster, namespace, "outsider")
            return model if condition(model, "Degraded").get("reason") == "PolicyViolation" else None

        model = wait_for(refused, what="a PolicyViolation condition")
        assert "spec.candidates[0].image" in condition(model, "Degraded")["message"]
        assert condition(model, "Ready")["status"] == "False"
        assert JobController(cluster, namespace).jobs() == {}


def test_a_version_that_will_never_serve_is_unloaded_so_triton_does_not_grow(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, settings: OperatorSettings
) -> None:
    with FakeTriton() as triton, RunningOperator(settings):
        manifest = manifests.valid("lean", serving={"endpoint": triton.url, "modelName": "lean"})
        cluster.request("POST", manifests.path(namespace), manifest)
        jobs = JobController(cluster, namespace)
        triton.loaded["lean__v2"] = [2]  # as its benchmark left it loaded
        disagreeing = {**METRICS, "agreement": 0.5}  # v2 (int8) disagrees with its fp32 parent: Rejected

        def settled() -> bool:
            jobs.finish_all(lambda c: dict(METRICS) if c["precision"] == "fp32" else dict(disagreeing))
            return triton.loaded.get("lean") == [1] and "lean__v2" not in triton.loaded

        wait_for(settled, 40, 0.2, what="v1 served and the rejected v2 unloaded")
        model = get(cluster, namespace, "lean")
        assert {v["version"]: v["state"] for v in model["status"]["versions"]} == {1: "Promoted", 2: "Rejected"}
        assert any(e["reason"] == "Unloaded" for e in events(cluster, namespace, "lean"))


class Tarpit:
    """A server on loopback that accepts and answers one byte every half second, forever."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            while not self.stop.is_set():
                try:
                    conn.sendall(b"H")
                except OSError:
                    return
                time.sleep(0.5)

    def __enter__(self) -> Tarpit:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.server.close()


def test_a_model_pointing_at_a_tarpit_does_not_delay_another_reaching_ready(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, settings: OperatorSettings
) -> None:
    with Tarpit() as tarpit, FakeTriton() as triton, RunningOperator(settings):
        stuck = manifests.valid("stuck", export={"precisions": ["fp32"]}, serving={"endpoint": tarpit.url})
        cluster.request("POST", manifests.path(namespace), stuck)
        healthy = manifests.valid("healthy", export={"precisions": ["fp32"]}, serving={"endpoint": triton.url})
        cluster.request("POST", manifests.path(namespace), healthy)
        jobs = JobController(cluster, namespace)
        started = time.monotonic()

        def healthy_ready() -> bool:
            jobs.finish_all(lambda contender: dict(METRICS))
            return condition(get(cluster, namespace, "healthy"), "Ready").get("status") == "True"

        wait_for(healthy_ready, 40, 0.2, what="the healthy model Ready")
        assert time.monotonic() - started < 30  # not held behind the tarpit's calls

        def stuck_says_why() -> dict[str, Any] | None:
            jobs.finish_all(lambda contender: dict(METRICS))
            model = get(cluster, namespace, "stuck")
            return model if condition(model, "Ready").get("reason") == "TritonUnavailable" else None

        model = wait_for(stuck_says_why, 60, 0.5, what="the stuck model's Ready=False (TritonUnavailable)")
        assert tarpit.url.removeprefix("http://") in condition(model, "Ready")["message"]  # the call, cut off
