"""One reconciliation of one ClassifierModel: observe → plan → act → write status.

The lifecycle itself is ``frontier.decision.planner`` (pure, shared with ``frontier run``); this module
observes the cluster (``world``: Jobs, their results, Triton), carries out the planner's actions with
Kubernetes objects (Jobs and their ConfigMaps, Job deletion, Triton's repository API) and writes the
planned status as one JSON merge patch, only when something changed. Level-triggered and idempotent:
names are deterministic, so running it twice, or after a restart at any moment, creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from frontier.api.names import Claim, holder, stable_name, version_model
from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus, Condition, ConditionType, Phase
from frontier.decision import generations, planner
from frontier.decision.work import (
    BaselineKey,
    Benchmark,
    BenchmarkKey,
    Cancel,
    EventReason,
    MeasureBaseline,
    Promote,
    ServingKnown,
    Train,
    TrainingKey,
    Unload,
    WorkKey,
    carry_out,
)
from frontier.errors import ServingError
from frontier.operator import admission, jobs, metrics, world
from frontier.operator.k8s import JSON, Kube
from frontier.operator.settings import OperatorSettings
from frontier.serving.client import TritonClient

NO_ENDPOINT_NOTE = " (Triton not called: spec.serving.endpoint is not set)"

# The planner's words for the actions it asks; the executor posts its own, which name the Job.
ACTION_EVENTS = {
    EventReason.TRAINING_STARTED,
    EventReason.BENCHMARK_STARTED,
    EventReason.BASELINE_STARTED,
    EventReason.CANCELLED,
}
# Events that count a Job's end in frontier_jobs_total.
JOB_ENDS = {
    EventReason.TRAINED: ("train", "succeeded"),
    EventReason.TRAINING_FAILED: ("train", "failed"),
    EventReason.BENCHMARKED: ("bench", "succeeded"),
    EventReason.BENCHMARK_FAILED: ("bench", "failed"),
    EventReason.BASELINE_MEASURED: ("baseline", "succeeded"),
    EventReason.BASELINE_FAILED: ("baseline", "failed"),
}


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass
class Outcome:
    status: ClassifierModelStatus
    events: list[Event] = field(default_factory=list)
    patched: bool = False


def now_rfc3339() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def merge_patch(old: Any, new: Any) -> Any:
    """An RFC 7386 merge patch turning ``old`` into ``new`` (None when they are equal)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None if old == new else new
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        else:
            sub = merge_patch(old[key], value)
            if sub is not None or (value is None and old[key] is not None):
                patch[key] = sub
    return patch or None


def model_name(spec: ClassifierModelSpec, target: jobs.Target) -> str:
    return stable_name(spec, target.name, target.namespace)


def endpoint_of(spec: ClassifierModelSpec, settings: OperatorSettings) -> str | None:
    return spec.serving.endpoint or settings.triton_endpoint


def target_of(body: JSON) -> jobs.Target:
    meta = body["metadata"]
    return jobs.Target(meta["name"], meta["namespace"], meta["uid"], int(meta.get("generation") or 1))


def job_name(target: jobs.Target, key: WorkKey) -> str:
    if isinstance(key, TrainingKey):
        return jobs.train_job_name(target, key.candidate, key.generation)
    if isinstance(key, BaselineKey):
        return jobs.baseline_job_name(target, key.name, key.digest)
    return jobs.bench_job_name(target, key.generation)


class Executor:
    """The operator's *act*: each planned action as Kubernetes objects or a Triton call."""

    def __init__(self, kube: Kube, target: jobs.Target, spec: ClassifierModelSpec, settings: OperatorSettings):
        self.kube, self.target, self.spec, self.settings = kube, target, spec, settings
        self.manifests: set[int] = set()
        self.triton_error: str | None = None
        self.conflict: str | None = None
        self.events: list[Event] = []

    def _ensure_manifest(self, generation: int) -> None:
        if generation not in self.manifests:
            self.kube.create_configmap(jobs.manifest_configmap(self.target, self.spec, generation))
            self.manifests.add(generation)

    def _start(self, job: JSON, generation: int, role: str) -> None:
        self._ensure_manifest(generation)
        name = job["metadata"]["name"]
        self.kube.create_configmap(jobs.result_configmap(self.target, name, role))
        if not self.settings.service_account:  # the Job may write its own result, and nothing else
            self.kube.ensure_job_identity(jobs.job_identity(self.target, name))
        if self.kube.create_job(job):
            metrics.JOBS.labels(role, "created").inc()
            reason = {"train": EventReason.TRAINING_STARTED, "bench": EventReason.BENCHMARK_STARTED}.get(
                role, EventReason.BASELINE_STARTED
            )
            self.events.append(Event("Normal", reason, f"created Job {name}"))
            return
        existing = self.kube.get_job(self.target.namespace, name)
        if existing is not None and not jobs.owned_by(existing, self.target):
            # Never silence: a Job of that name belongs to something else, and this one cannot start.
            self.conflict = (
                f"Job {name} already exists and is not owned by this ClassifierModel (uid {self.target.uid})"
            )
            self.events.append(Event("Warning", "JobNameConflict", self.conflict))

    def train(self, action: Train) -> None:
        target = jobs.Target(self.target.name, self.target.namespace, self.target.uid, action.key.generation)
        candidate = self.spec.candidate(action.key.candidate)
        self._start(jobs.train_job(target, self.spec, candidate, self.settings), action.key.generation, "train")

    def benchmark(self, action: Benchmark) -> None:
        generation = action.key.generation
        job = jobs.bench_job(self.target, self.spec, generation, action.contenders, self.settings, action.discard)
        self._start(job, generation, "bench")

    def measure_baseline(self, action: MeasureBaseline) -> None:
        key = action.key
        job = jobs.baseline_job(self.target, self.spec, key.name, key.digest, action.generation, self.settings)
        self._start(job, action.generation, "baseline")

    def promote(self, action: Promote) -> None:
        endpoint = endpoint_of(self.spec, self.settings)
        if not endpoint:
            return
        try:
            TritonClient(endpoint).promote(model_name(self.spec, self.target), action.version)
        except ServingError as failure:
            self.triton_error = str(failure)

    def unload(self, action: Unload) -> None:
        endpoint = endpoint_of(self.spec, self.settings)
        if not endpoint:
            return
        name = version_model(model_name(self.spec, self.target), action.version)
        try:
            TritonClient(endpoint).unload_all([name])
        except ServingError as failure:  # memory not freed yet: the next pass asks again
            self.events.append(Event("Warning", "UnloadFailed", f"{name}: {failure}"))
            return
        self.events.append(Event("Normal", "Unloaded", f"{name}: its version will never serve"))

    def cancel(self, action: Cancel) -> None:
        name = job_name(self.target, action.key)
        if self.kube.delete_job(self.target.namespace, name):
            metrics.JOBS.labels("train" if isinstance(action.key, TrainingKey) else "bench", "cancelled").inc()
            self.events.append(Event("Normal", EventReason.CANCELLED, f"deleted Job {name}: it {action.why}"))


def _strip_note(status: ClassifierModelStatus) -> ClassifierModelStatus:
    decision = status.decision
    if decision is None or not decision.message.endswith(NO_ENDPOINT_NOTE):
        return status
    message = decision.message[: -len(NO_ENDPOINT_NOTE)]
    return status.model_copy(update={"decision": decision.model_copy(update={"message": message})})


def _add_note(status: ClassifierModelStatus) -> ClassifierModelStatus:
    decision = status.decision
    if decision is None:
        return status
    return status.model_copy(
        update={"decision": decision.model_copy(update={"message": decision.message + NO_ENDPOINT_NOTE})}
    )


def _with_condition(
    status: ClassifierModelStatus,
    type_: ConditionType,
    value: bool,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> ClassifierModelStatus:
    truth = "True" if value else "False"
    previous = next((c for c in status.conditions if c.type == type_), None)
    since = previous.last_transition_time if previous is not None and previous.status == truth else now
    condition = Condition(
        type=type_,
        status=truth,
        reason=reason,
        message=message[-4000:],
        last_transition_time=since,
        observed_generation=generation,
    )
    conditions = [condition if c.type == type_ else c for c in status.conditions]
    if previous is None:
        conditions.append(condition)
    return status.model_copy(update={"conditions": conditions})


def _invalid(raw: Any, generation: int, message: str, now: str) -> ClassifierModelStatus:
    try:
        status = ClassifierModelStatus.model_validate(raw or {})
    except ValidationError:
        status = ClassifierModelStatus()
    status = _with_condition(status, ConditionType.DEGRADED, True, "InvalidSpec", message, generation, now)
    return status.model_copy(update={"phase": Phase.FAILED, "observed_generation": generation})


Claims = Callable[[str], Iterable[Claim]]
"""Every resource the operator sees that claims a stable name (``handlers.served_names``, a kopf index)."""


def conflict_with(spec: ClassifierModelSpec, target: jobs.Target, claims: Claims | None) -> Claim | None:
    """The resource that holds this one's stable name, when it is another one."""
    if claims is None:
        return None
    owner = holder(claims(model_name(spec, target)))
    return owner if owner is not None and owner.uid != target.uid else None


def _name_conflict(
    status: ClassifierModelStatus, stable: str, owner: Claim, generation: int, now: str
) -> ClassifierModelStatus:
    message = (
        f"Triton model name {stable!r} is served for {owner.namespace}/{owner.name} (since {owner.created}); "
        "set spec.serving.modelName to a name of your own. Nothing was trained, published or served."
    )
    for type_, value in ((ConditionType.READY, False), (ConditionType.DEGRADED, True)):
        status = _with_condition(status, type_, value, "NameConflict", message, generation, now)
    return status.model_copy(update={"phase": Phase.DEGRADED})


def reconcile(
    kube: Kube, body: JSON, settings: OperatorSettings, now: str | None = None, claims: Claims | None = None
) -> Outcome:
    """Bring the cluster one step closer to ``body``'s spec and write what was observed."""
    now = now or now_rfc3339()
    target = target_of(body)
    raw_status = body.get("status") or {}
    try:
        spec = ClassifierModelSpec.model_validate(body.get("spec") or {})
        before = _strip_note(ClassifierModelStatus.model_validate(raw_status))
    except ValidationError as error:
        status = _invalid(raw_status, target.generation, f"invalid spec or status: {error}", now)
        return _write(kube, target, raw_status, status, [Event("Warning", "InvalidSpec", str(error)[:1000])])

    # observe
    generation, _ = generations.generation_of(spec, before)
    refused = admission.violations(spec, settings)
    if refused:  # the platform admin's policy: no Job, no Triton call, until the manifest complies
        status = _with_condition(
            before, ConditionType.DEGRADED, True, admission.CONDITION, admission.message(refused), generation, now
        )
        status = _with_condition(
            status, ConditionType.READY, False, admission.CONDITION, admission.message(refused), generation, now
        )
        status = _observed(status.model_copy(update={"phase": Phase.DEGRADED}), target.generation)
        return _write(
            kube, target, raw_status, status, [Event("Warning", admission.CONDITION, admission.message(refused))]
        )
    owner = conflict_with(spec, target, claims)
    if owner is not None:  # touch nothing of the holder: no Job, no repository entry, no Triton call
        status = _observed(_name_conflict(before, model_name(spec, target), owner, generation, now), target.generation)
        message = next(c.message for c in status.conditions if c.type == ConditionType.DEGRADED)
        return _write(kube, target, raw_status, status, [Event("Warning", "NameConflict", message)])
    endpoint = endpoint_of(spec, settings)
    # Only this incarnation's Jobs: a predecessor of the same name may still have some.
    listed = {n: j for n, j in kube.list_jobs(target.namespace, target.name).items() if jobs.owned_by(j, target)}
    observed = world.world(kube, target.namespace, listed, before, generation, endpoint, model_name(spec, target), spec)
    # plan
    plan = planner.plan(spec, before, observed, now, model_name(spec, target))
    # act
    executor = Executor(kube, target, spec, settings)
    carry_out(plan.actions, executor)

    status = plan.status
    events = [Event(e.type, e.reason, e.message) for e in plan.events if e.reason not in ACTION_EVENTS]
    events += executor.events
    for planned in plan.events:
        if planned.reason in JOB_ENDS:
            metrics.JOBS.labels(*JOB_ENDS[planned.reason]).inc()
    problem = executor.triton_error or (
        observed.served.message if observed.served.why == ServingKnown.UNAVAILABLE else None
    )
    if status.promoted is not None and problem is not None:
        events.append(Event("Warning", "TritonUnavailable", problem))
        for type_, value in ((ConditionType.READY, False), (ConditionType.DEGRADED, True)):
            status = _with_condition(status, type_, value, "TritonUnavailable", problem, generation, now)
    if executor.conflict is not None:
        status = _with_condition(
            status, ConditionType.DEGRADED, True, "JobNameConflict", executor.conflict, generation, now
        )
    if not endpoint:
        status = _add_note(status)
    status = _observed(status, target.generation)
    return _write(kube, target, raw_status, status, events)


def _observed(status: ClassifierModelStatus, generation: int) -> ClassifierModelStatus:
    """observedGeneration is the object's generation (versions count their own generations)."""
    conditions = [c.model_copy(update={"observed_generation": generation}) for c in status.conditions]
    return status.model_copy(update={"observed_generation": generation, "conditions": conditions})


def _write(
    kube: Kube, target: jobs.Target, raw_status: JSON, status: ClassifierModelStatus, events: list[Event]
) -> Outcome:
    patch = merge_patch(raw_status, status.to_wire())
    if patch:
        kube.patch_model_status(target.namespace, target.name, {"status": patch})
    metrics.record_promoted(target.namespace, target.name, status)
    return Outcome(status, events, patched=bool(patch))


def cleanup(kube: Kube, body: JSON, settings: OperatorSettings, claims: Claims | None = None) -> list[Event]:
    """On deletion: delete the Jobs and ConfigMaps, unload from Triton, purge artifacts if asked."""
    target = target_of(body)
    events: list[Event] = []
    deleted = kube.delete_jobs(target.namespace, target.name)
    kube.delete_configmaps(target.namespace, target.name)
    events.append(Event("Normal", "JobsDeleted", f"deleted {deleted} Job(s)"))
    try:
        spec = ClassifierModelSpec.model_validate(body.get("spec") or {})
    except ValidationError:
        return events
    status = ClassifierModelStatus.model_validate(body.get("status") or {})
    endpoint = endpoint_of(spec, settings)
    if endpoint and conflict_with(spec, target, claims) is None:  # never unload another resource's name
        stable = model_name(spec, target)
        published = [v.version for v in status.versions if v.metrics is not None]
        try:
            TritonClient(endpoint).unload_all([stable, *(version_model(stable, n) for n in published)])
            events.append(Event("Normal", "Unloaded", f"unloaded {stable} and {len(published)} version model(s)"))
        except ServingError as error:
            events.append(Event("Warning", "UnloadFailed", str(error)))
    if not spec.storage.retain_on_delete and not admission.violations(spec, settings):
        purge = jobs.purge_job(target, spec, settings)
        kube.create_job(purge)
        events.append(Event("Normal", "ArtifactsPurged", f"created Job {purge['metadata']['name']}"))
    return events


__all__ = ["BenchmarkKey", "Event", "Outcome", "cleanup", "reconcile"]
