"""One reconciliation of one ClassifierModel: observe the Jobs, advance the versions, decide, serve.

Level-triggered and idempotent: everything is recomputed from the object and the Jobs that exist
(deterministic names), so running it twice, or after a restart at any moment, creates nothing twice.
The bookkeeping is ``frontier.decision.lifecycle`` (pure); this module only adds what the cluster
says (Job states, results) and does what the status asks (create Jobs, load the promoted version in
Triton). Kubernetes calls go through ``Kube``; the status is written as one JSON merge patch, and
only when something changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus, Condition, ModelVersion
from frontier.decision import lifecycle
from frontier.errors import ServingError
from frontier.operator import generations, jobs, metrics, observe, results, superseded, triton
from frontier.operator.k8s import JSON, Kube
from frontier.operator.settings import OperatorSettings

NO_ENDPOINT_NOTE = " (Triton not called: spec.serving.endpoint is not set)"
TRAINING_STATES = {"Pending", "Training"}
BENCH_STATES = {"Trained", "Published", "Benchmarking"}


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


def model_name(spec: ClassifierModelSpec, name: str) -> str:
    return spec.serving.model_name or name.replace("-", "_")


def endpoint_of(spec: ClassifierModelSpec, settings: OperatorSettings) -> str | None:
    return spec.serving.endpoint or settings.triton_endpoint


def target_of(body: JSON) -> jobs.Target:
    meta = body["metadata"]
    return jobs.Target(meta["name"], meta["namespace"], meta["uid"], int(meta.get("generation") or 1))


class _Run:
    """The state of one reconciliation (keeps the steps small and their I/O in one place)."""

    def __init__(self, kube: Kube, body: JSON, spec: ClassifierModelSpec, settings: OperatorSettings, now: str):
        self.kube, self.body, self.spec, self.settings, self.now = kube, body, spec, settings, now
        self.target = target_of(body)
        self.events: list[Event] = []
        self.manifests: set[int] = set()
        self.jobs = kube.list_jobs(self.target.namespace, self.target.name)

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append(Event(type_, reason, message))

    def _ensure_manifest(self, generation: int) -> None:
        if generation not in self.manifests:
            self.kube.create_configmap(jobs.manifest_configmap(self.target, self.spec, generation))
            self.manifests.add(generation)

    def _start(self, job: JSON, generation: int, role: str) -> None:
        self._ensure_manifest(generation)
        name = job["metadata"]["name"]
        self.kube.create_configmap(jobs.result_configmap(self.target, name, role))
        if self.kube.create_job(job):
            metrics.JOBS.labels(role, "created").inc()
            self.event("Normal", "TrainingStarted" if role == "train" else "BenchmarkStarted", f"created Job {name}")

    def cancel_superseded(self, status: ClassifierModelStatus, generation: int) -> None:
        for name, why in superseded.superseded_jobs(self.jobs, status, generation).items():
            if self.kube.delete_job(self.target.namespace, name):
                metrics.JOBS.labels(self.jobs[name]["metadata"]["labels"][jobs.LABEL_ROLE], "cancelled").inc()
                self.event("Normal", "JobCancelled", f"deleted Job {name}: it {why}")
            del self.jobs[name]

    # ------------------------------------------------------------------------------ training

    def training(self, status: ClassifierModelStatus) -> ClassifierModelStatus:
        generation = self.target.generation
        for candidate in self.spec.candidates:
            waiting = [
                v
                for v in status.versions
                if v.spec_generation == generation and v.candidate == candidate.name and v.state in TRAINING_STATES
            ]
            if not waiting:
                continue
            numbers = [v.version for v in waiting]
            name = jobs.train_job_name(self.target.name, candidate.name, generation)
            state = observe.job_state(self.jobs.get(name))
            if state.phase in ("Missing", "Active"):
                if state.phase == "Missing":
                    self._start(jobs.train_job(self.target, self.spec, candidate, self.settings), generation, "train")
                status = _set(status, numbers, "Training", reason="JobRunning", message=f"Job {name}")
            elif state.phase == "Succeeded":
                try:
                    artifact = results.training_artifact(self.kube.get_configmap(self.target.namespace, name))
                except results.ResultError as error:
                    status = self._failed(status, numbers, "train", name, "NoResult", str(error))
                    continue
                status = _set(status, numbers, "Trained", artifact=artifact, reason=None, message=None)
                metrics.JOBS.labels("train", "succeeded").inc()
                self.event("Normal", "Trained", f"{candidate.name}: artifact {artifact.uri} (Job {name})")
            else:
                status = self._failed(status, numbers, "train", name, state.reason, state.message)
        return status

    def _failed(
        self, status: ClassifierModelStatus, numbers: list[int], role: str, job: str, reason: str, message: str
    ) -> ClassifierModelStatus:
        metrics.JOBS.labels(role, "failed").inc()
        text = f"Job {job}: {message}" if message else f"Job {job} failed"
        self.event("Warning", "TrainingFailed" if role == "train" else "BenchmarkFailed", f"{reason}: {text}")
        return lifecycle.record_failure(status, numbers, reason or "JobFailed", text)

    # ----------------------------------------------------------------------------- benchmarks

    def benchmarks(self, status: ClassifierModelStatus) -> ClassifierModelStatus:
        for version in [v for v in status.versions if v.state in BENCH_STATES]:
            name = jobs.bench_job_name(self.target.name, version.version)
            state = observe.job_state(self.jobs.get(name))
            if state.phase == "Missing":
                self._start(
                    jobs.bench_job(self.target, self.spec, version, self.settings), version.spec_generation, "bench"
                )
                status = _set(status, [version.version], "Benchmarking", reason="JobRunning", message=f"Job {name}")
            elif state.phase == "Active":
                status = _set(status, [version.version], "Benchmarking", reason="JobRunning", message=f"Job {name}")
            elif state.phase == "Succeeded":
                try:
                    measured = results.benchmark_metrics(self.kube.get_configmap(self.target.namespace, name))
                except results.ResultError as error:
                    status = self._failed(status, [version.version], "bench", name, "NoResult", str(error))
                    continue
                metrics.JOBS.labels("bench", "succeeded").inc()
                status = lifecycle.record_metrics(self.spec, status, version.version, measured)
                self.event(
                    "Normal",
                    "Benchmarked",
                    f"v{version.version} ({version.candidate}/{version.precision}): macro-F1 {measured.macro_f1:.4f}, "
                    f"p95 {measured.p95_ms:.1f} ms, ${measured.cost_per_1m:.4f}/1M",
                )
            else:
                status = self._failed(status, [version.version], "bench", name, state.reason, state.message)
        return status

    # ------------------------------------------------------------------------------- serving

    def serve(
        self, before: ClassifierModelStatus, status: ClassifierModelStatus
    ) -> tuple[ClassifierModelStatus, str | None]:
        """Load the promoted version in Triton; returns the status and a Triton error, if any."""
        promoted = status.promoted
        was = before.promoted.version if before.promoted else None
        endpoint = endpoint_of(self.spec, self.settings)
        error: str | None = None
        if promoted is not None and endpoint:
            try:
                triton.ensure_promoted(endpoint, model_name(self.spec, self.target.name), promoted.version)
            except ServingError as failure:
                error = str(failure)
                self.event("Warning", "TritonUnavailable", error)
        elif status.decision is not None and not endpoint:
            decision = status.decision
            status = status.model_copy(
                update={"decision": decision.model_copy(update={"message": decision.message + NO_ENDPOINT_NOTE})}
            )
        if promoted is not None and promoted.version != was:
            action = status.decision.action if status.decision else "promote"
            self.event(
                "Normal",
                "Promoted",
                f"{action}: now serving v{promoted.version} "
                f"({promoted.candidate}/{promoted.precision}); {status.decision.message if status.decision else ''}",
            )
        elif (
            status.decision is not None and status.decision != before.decision and status.decision.action == "recommend"
        ):
            self.event("Normal", "Recommended", status.decision.message)
        return status, error


def _set(status: ClassifierModelStatus, numbers: list[int], state: str, **update: Any) -> ClassifierModelStatus:
    for number in numbers:
        current = status.version(number)
        if current is not None and not _same(current, state, update):
            status = lifecycle.set_state(status, number, state, **update)
    return status


def _same(version: ModelVersion, state: str, update: dict[str, Any]) -> bool:
    return version.state == state and all(getattr(version, k) == v for k, v in update.items())


def _strip_note(status: ClassifierModelStatus) -> ClassifierModelStatus:
    decision = status.decision
    if decision is None or not decision.message.endswith(NO_ENDPOINT_NOTE):
        return status
    message = decision.message[: -len(NO_ENDPOINT_NOTE)]
    return status.model_copy(update={"decision": decision.model_copy(update={"message": message})})


def _with_condition(
    status: ClassifierModelStatus, type_: str, value: bool, reason: str, message: str, generation: int, now: str
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
    others = [c for c in status.conditions if c.type != type_]
    return status.model_copy(update={"conditions": [*others, condition]})


def _invalid(raw: Any, generation: int, message: str, now: str) -> ClassifierModelStatus:
    try:
        status = ClassifierModelStatus.model_validate(raw or {})
    except ValidationError:
        status = ClassifierModelStatus()
    status = _with_condition(status, "Degraded", True, "InvalidSpec", message, generation, now)
    return status.model_copy(update={"phase": "Failed", "observed_generation": generation})


def reconcile(kube: Kube, body: JSON, settings: OperatorSettings, now: str | None = None) -> Outcome:
    """Bring the cluster one step closer to ``body``'s spec and write what was observed."""
    now = now or now_rfc3339()
    target = target_of(body)
    raw_status = body.get("status") or {}
    try:
        spec = ClassifierModelSpec.model_validate(body.get("spec") or {})
        before = ClassifierModelStatus.model_validate(raw_status)
    except ValidationError as error:
        status = _invalid(raw_status, target.generation, f"invalid spec or status: {error}", now)
        return _write(kube, target, raw_status, status, [Event("Warning", "InvalidSpec", str(error)[:1000])])

    # Versions belong to the training generation (see ``generations``), recorded before any Job.
    known = lifecycle.current_generation(before)
    annotations = body["metadata"].get("annotations") or {}
    trained_at, record = generations.training_generation(annotations, target.generation, spec, known)
    if record is not None:
        kube.patch_model_annotations(target.namespace, target.name, {generations.ANNOTATION: record})
    body = {**body, "metadata": {**body["metadata"], "generation": trained_at}}

    run = _Run(kube, body, spec, settings, now)
    status = lifecycle.plan_versions(spec, trained_at, _strip_note(before), now)
    run.cancel_superseded(status, trained_at)
    status = run.training(status)
    status = run.benchmarks(status)
    status = lifecycle.apply_decision(spec, status, now, trained_at)
    status, triton_error = run.serve(before, status)
    status = lifecycle.summarize(spec, trained_at, status, now)
    if triton_error is not None:
        status = _with_condition(status, "Degraded", True, "TritonUnavailable", triton_error, trained_at, now)
    status = _observed(status, target.generation)
    return _write(kube, target, raw_status, status, run.events)


def _observed(status: ClassifierModelStatus, generation: int) -> ClassifierModelStatus:
    """observedGeneration is the object's generation, even when the versions are of an earlier one."""
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


def cleanup(kube: Kube, body: JSON, settings: OperatorSettings) -> list[Event]:
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
    if endpoint:
        stable = model_name(spec, target.name)
        published = [v.version for v in status.versions if v.metrics is not None]
        try:
            triton.unload(endpoint, [stable, *(triton.version_model(stable, n) for n in published)])
            events.append(Event("Normal", "Unloaded", f"unloaded {stable} and {len(published)} version model(s)"))
        except ServingError as error:
            events.append(Event("Warning", "UnloadFailed", str(error)))
    if not spec.storage.retain_on_delete:
        purge = jobs.purge_job(target, spec, settings)
        kube.create_job(purge)
        events.append(Event("Normal", "ArtifactsPurged", f"created Job {purge['metadata']['name']}"))
    return events
