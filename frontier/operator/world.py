"""The operator's *observe*: the planner's ``World`` from the model's Jobs, their results and Triton.

Jobs carry their work key in labels (role, candidate, generation, version), so one list call finds every
piece of work a model has; a result ConfigMap is read only for a finished Job whose versions still wait
for it (a resync of a settled model reads no ConfigMap). Triton is asked which version its stable name
serves; an unreachable Triton is an observation (``Served.why``), not an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontier import results
from frontier.api.names import version_model
from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus
from frontier.decision import baselines
from frontier.decision.states import AWAITING_BENCHMARK, IN_TRAINING, Reason
from frontier.decision.work import (
    BaselineKey,
    BaselineMeasured,
    BenchmarkKey,
    Failed,
    Measured,
    Observed,
    Running,
    Served,
    ServingKnown,
    Trained,
    TrainingKey,
    WorkKey,
    World,
)
from frontier.errors import ServingError
from frontier.operator import jobs, observe
from frontier.operator.k8s import JSON, Kube
from frontier.serving.client import TritonClient


def key_of(job: Mapping[str, Any]) -> WorkKey | None:
    labels = (job.get("metadata") or {}).get("labels") or {}
    role = labels.get(jobs.LABEL_ROLE)
    generation = _number(labels.get(jobs.LABEL_GENERATION))
    if generation is None:
        return None
    if role == "train" and labels.get(jobs.LABEL_CANDIDATE):
        return TrainingKey(labels[jobs.LABEL_CANDIDATE], generation)
    if role == "bench" and not labels.get(jobs.LABEL_VERSION):  # one version's Job: an older operator's
        return BenchmarkKey(generation)
    if role == "baseline" and labels.get(jobs.LABEL_BASELINE) and labels.get(jobs.LABEL_DIGEST):
        return BaselineKey(labels[jobs.LABEL_BASELINE], labels[jobs.LABEL_DIGEST])
    return None


def awaited(status: ClassifierModelStatus, generation: int, spec: ClassifierModelSpec | None = None) -> set[WorkKey]:
    """The work whose result the planner will read on this pass."""
    keys: set[WorkKey] = set()
    measured = {b.name: b.measured.digest for b in status.baselines if b.measured is not None}
    for baseline in spec.baselines if spec is not None else []:
        assert spec is not None
        digest = baselines.llm_digest(spec, baseline) if baseline.llm is not None else None
        if digest is not None and measured.get(baseline.name) != digest:
            keys.add(BaselineKey(baseline.name, digest))
    for v in status.versions:
        if v.spec_generation == generation and v.state in IN_TRAINING:
            keys.add(TrainingKey(v.candidate, generation))
        elif v.state in AWAITING_BENCHMARK:
            keys.add(BenchmarkKey(v.spec_generation))
    return keys


def observe_jobs(
    kube: Kube, namespace: str, listed: Mapping[str, JSON], wanted: set[WorkKey]
) -> dict[WorkKey, Observed]:
    work: dict[WorkKey, Observed] = {}
    for name, job in listed.items():
        key = key_of(job)
        if key is None:
            continue
        state = observe.job_state(job)
        if state.phase == "Active":
            work[key] = Running(f"Job {name}")
        elif key not in wanted:
            continue  # finished work nobody waits for: history
        elif state.phase == "Succeeded":
            work[key] = _result(kube.get_configmap(namespace, name), key, name)
        elif state.phase == "Failed":
            # The workload's own error (a DataError naming its row, with the exit code) says more than the
            # Job controller's BackoffLimitExceeded; a Job stopped at its deadline failed for that alone.
            own = None if state.reason == "DeadlineExceeded" else results.failure(kube.get_configmap(namespace, name))
            if own is not None:
                work[key] = Failed(own[0], f"Job {name}: {own[1]}")
            else:
                text = f"Job {name}: {state.message}" if state.message else f"Job {name} failed"
                work[key] = Failed(state.reason or "JobFailed", text)
    return work


def _result(configmap: JSON | None, key: WorkKey, job: str) -> Observed:
    try:
        if isinstance(key, TrainingKey):
            return Trained(results.training_artifact(configmap))
        if isinstance(key, BaselineKey):
            found = results.baseline_result(configmap)
            return BaselineMeasured(found.macro_f1, found.p50_ms, found.p95_ms, found.p99_ms, found.measured)
        return Measured(results.benchmark_metrics(configmap))
    except results.ResultError as error:
        return Failed(Reason.NO_RESULT, f"Job {job}: {error}")


def observe_serving(endpoint: str | None, model_name: str) -> Served:
    if not endpoint:
        return Served(why=ServingKnown.NOT_CONFIGURED)
    try:
        index = TritonClient(endpoint).repository_index()  # one call: the stable name and every version model
    except ServingError as error:  # unreachable, past its deadline, or a reply that is not Triton's
        return Served(why=ServingKnown.UNAVAILABLE, message=str(error))
    ready = [e for e in index if e.get("state") == "READY" and str(e.get("version") or "").isdigit()]
    stable = sorted(int(e["version"]) for e in ready if e.get("name") == model_name)
    prefix = version_model(model_name, 0)[:-1]  # "<m>__v"
    loaded = {
        int(name[len(prefix) :])
        for e in ready
        if (name := str(e.get("name"))).startswith(prefix) and name[len(prefix) :].isdigit()
    }
    return Served(version=stable[0] if len(stable) == 1 else None, loaded=frozenset(loaded))


def world(
    kube: Kube,
    namespace: str,
    listed: Mapping[str, JSON],
    status: ClassifierModelStatus,
    generation: int,
    endpoint: str | None,
    model_name: str,
    spec: ClassifierModelSpec | None = None,
) -> World:
    return World(
        work=observe_jobs(kube, namespace, listed, awaited(status, generation, spec)),
        served=observe_serving(endpoint, model_name),
    )


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None
