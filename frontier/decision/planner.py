"""The lifecycle, once: from the spec, the status and what an executor observed, the next status and the
actions to carry out. Pure — the controller pattern's *plan* between *observe* and *act*.

    generation, _ = generations.generation_of(spec, status)
    world = executor.observe(status, generation)          # Jobs / processes, results, Triton
    plan = planner.plan(spec, status, world, now, model_name)
    executor.act(plan.actions); write(plan.status); post(plan.events)

Both executors run this same function: the operator once per reconciliation (its actions start Jobs that
finish later, observed on a later pass), ``frontier run`` in a loop until no action is left (its actions
finish before it observes again). Given the same observations they plan the same versions, states and
decision. Re-planning from the same inputs plans the same actions: executors make each action idempotent
(deterministic Job names, artifact directories keyed by their inputs), so a restart at any moment
resumes and never duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus, ModelVersion, ServingStatus, VersionState
from frontier.decision import baselines, generations, lifecycle
from frontier.decision.states import AWAITING_BENCHMARK, IN_TRAINING, Reason
from frontier.decision.work import (
    Action,
    BaselineKey,
    BaselineMeasured,
    Benchmark,
    BenchmarkKey,
    Cancel,
    Contender,
    Event,
    EventReason,
    Failed,
    MeasureBaseline,
    Measured,
    Observed,
    Promote,
    Running,
    Train,
    Trained,
    TrainingKey,
    Unload,
    World,
)

S = VersionState
NEVER_SERVED = frozenset({S.RETIRED, S.REJECTED, S.FAILED})


@dataclass(frozen=True)
class Plan:
    status: ClassifierModelStatus
    actions: tuple[Action, ...] = ()
    events: tuple[Event, ...] = ()
    generation: int = 1


@dataclass
class _Planning:
    """One planning pass: the status as it is being rewritten, and what it has decided to do."""

    spec: ClassifierModelSpec
    status: ClassifierModelStatus
    world: World
    generation: int
    model_name: str
    actions: list[Action] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def move(self, numbers: list[int], state: VersionState, **update: object) -> None:
        for number in numbers:
            self.status = lifecycle.set_state(self.status, number, state, **update)

    def say(self, reason: EventReason, message: str, warning: bool = False) -> None:
        self.events.append(Event(reason, message, warning))

    def current(self, *in_states: VersionState) -> list[ModelVersion]:
        return [v for v in self.status.versions if v.spec_generation == self.generation and v.state in in_states]


def plan(spec: ClassifierModelSpec, status: ClassifierModelStatus, world: World, now: str, model_name: str) -> Plan:
    """``model_name``: the stable Triton name the resource serves under (``frontier.api.names``)."""
    generation, digest = generations.generation_of(spec, status)
    status = lifecycle.plan_versions(spec, generation, status, now).model_copy(update={"spec_digest": digest})
    planning = _Planning(spec, status, world, generation, model_name)
    _cancel_superseded(planning)
    _training(planning)
    _benchmarks(planning)
    _baselines(planning)
    before = planning.status
    planning.status = lifecycle.apply_decision(spec, planning.status, now, generation)
    _serving(planning, before)
    planning.status = lifecycle.summarize(spec, generation, planning.status, now)
    return Plan(planning.status, tuple(planning.actions), tuple(planning.events), generation)


# --------------------------------------------------------------------------------------------- baselines


def _baselines(p: _Planning) -> None:
    """Measure each ``llm`` baseline once per digest; show every baseline, priced, in ``status.baselines``."""
    previous = {b.name: b for b in p.status.baselines}
    observed: dict[str, Observed | None] = {}
    for baseline in p.spec.baselines:
        if baseline.llm is None:
            continue
        key = BaselineKey(baseline.name, baselines.llm_digest(p.spec, baseline))
        before = previous.get(baseline.name)
        if before is not None and before.measured is not None and before.measured.digest == key.digest:
            continue  # measured already: a re-run does not pay for the same calls twice
        found = observed[baseline.name] = p.world.of(key)
        if found is None:
            p.actions.append(MeasureBaseline(key, p.generation))
            p.say(EventReason.BASELINE_STARTED, f"{baseline.name}: measuring {baseline.llm.model}")
        elif isinstance(found, BaselineMeasured):
            p.say(
                EventReason.BASELINE_MEASURED,
                f"{baseline.name}: macro-F1 {found.macro_f1:.4f}, p50 {found.p50_ms:.0f} ms",
            )
        elif isinstance(found, Failed) and (before is None or before.message != found.message):
            p.say(EventReason.BASELINE_FAILED, f"{baseline.name}: {found.message}", warning=True)
    p.status = p.status.model_copy(update={"baselines": baselines.shown(p.spec, list(previous.values()), observed)})


# ---------------------------------------------------------------------------------------------- training


def _training(p: _Planning) -> None:
    for candidate in p.spec.candidates:
        waiting = [v for v in p.current(*IN_TRAINING) if v.candidate == candidate.name]
        if not waiting:
            continue
        numbers = [v.version for v in waiting]
        reusable = _earlier_artifact(p.status, waiting[0])
        if reusable is not None:
            p.move(numbers, S.TRAINED, artifact=reusable.artifact, reason=Reason.ARTIFACT_REUSED, message=None)
            p.say(EventReason.ARTIFACT_REUSED, f"{candidate.name}: same training inputs as v{reusable.version}")
            continue
        key = TrainingKey(candidate.name, p.generation)
        observed = p.world.of(key)
        if observed is None:
            p.actions.append(Train(key, tuple(numbers)))
            p.move(numbers, S.TRAINING, reason=Reason.RUNNING, message=None)
            p.say(EventReason.TRAINING_STARTED, f"{candidate.name}: training generation {p.generation}")
        elif isinstance(observed, Running):
            p.move(numbers, S.TRAINING, reason=Reason.RUNNING, message=observed.detail or None)
        elif isinstance(observed, Trained):
            _trained(p, candidate.name, waiting, observed)
        elif isinstance(observed, Failed):
            p.status = lifecycle.record_failure(p.status, numbers, observed.reason, observed.message)
            p.say(EventReason.TRAINING_FAILED, f"{candidate.name}: {observed.reason}: {observed.message}", True)
        else:  # a benchmark result under a training key: the executor is broken
            raise TypeError(f"{key}: unexpected observation {observed!r}")


def _trained(p: _Planning, candidate: str, waiting: list[ModelVersion], observed: Trained) -> None:
    for v in waiting:
        if observed.precisions is not None and v.precision not in observed.precisions:
            held = ", ".join(sorted(observed.precisions))
            p.status = lifecycle.record_failure(
                p.status, [v.version], Reason.PRECISION_MISSING, f"the artifact has no {v.precision} model ({held})"
            )
            continue
        p.move([v.version], S.TRAINED, artifact=observed.artifact, reason=None, message=None)
    p.say(EventReason.TRAINED, f"{candidate}: artifact {observed.artifact.uri}")


def _earlier_artifact(status: ClassifierModelStatus, version: ModelVersion) -> ModelVersion | None:
    """A version of an earlier generation trained from exactly the same inputs, with its artifact."""
    if version.training_digest is None:
        return None
    return next(
        (
            v
            for v in status.versions
            if v.spec_generation < version.spec_generation
            and v.training_digest == version.training_digest
            and v.artifact is not None
        ),
        None,
    )


# -------------------------------------------------------------------------------------------- benchmarks


def _benchmarks(p: _Planning) -> None:
    """A generation is measured once all its candidates are trained, all its versions together with
    a fresh measurement of the promoted version (interleaved rounds, ``frontier.serving.rounds``)."""
    waiting = [v for v in p.status.versions if v.state in AWAITING_BENCHMARK]
    for generation in sorted({v.spec_generation for v in waiting}):
        if any(v.spec_generation == generation and v.state in IN_TRAINING for v in p.status.versions):
            continue  # measure the generation's versions side by side, not one after another
        versions = [v for v in waiting if v.spec_generation == generation]
        numbers = [v.version for v in versions]
        key = BenchmarkKey(generation)
        observed = p.world.of(key)
        if observed is None:
            incumbent = _incumbent(p, numbers)
            contenders = tuple(_contender(v) for v in [*versions, *([incumbent] if incumbent else [])])
            discard = tuple(sorted(v.version for v in p.status.versions if v.state in NEVER_SERVED))
            p.actions.append(Benchmark(key, contenders, incumbent.version if incumbent else None, discard))
            p.move(numbers, S.BENCHMARKING, reason=Reason.RUNNING, message=None)
            together = ", ".join(f"v{c.version}" for c in contenders)
            p.say(EventReason.BENCHMARK_STARTED, f"generation {generation}: measuring {together} together")
        elif isinstance(observed, Running):
            p.move(numbers, S.BENCHMARKING, reason=Reason.RUNNING, message=observed.detail or None)
        elif isinstance(observed, Measured):
            _measured(p, versions, observed)
        elif isinstance(observed, Failed):
            p.status = lifecycle.record_failure(p.status, numbers, observed.reason, observed.message)
            p.say(EventReason.BENCHMARK_FAILED, f"generation {generation}: {observed.reason}: {observed.message}", True)
        else:
            raise TypeError(f"{key}: unexpected observation {observed!r}")


def _incumbent(p: _Planning, challengers: list[int]) -> ModelVersion | None:
    """The promoted version, to be measured again beside its challengers (not when it is one of them)."""
    promoted = p.status.promoted
    if promoted is None or promoted.version in challengers:
        return None
    version = p.status.version(promoted.version)
    return version if version is not None and version.artifact is not None else None


def _contender(v: ModelVersion) -> Contender:
    assert v.artifact is not None  # Trained (or measured) means an artifact was recorded
    return Contender(v.version, v.candidate, v.precision, v.spec_generation, v.artifact)


def _measured(p: _Planning, versions: list[ModelVersion], observed: Measured) -> None:
    for v in versions:
        m = observed.metrics.get(v.version)
        label = f"v{v.version} ({v.candidate}/{v.precision})"
        if m is None:
            message = "the benchmark reported no metrics for this version"
            p.status = lifecycle.record_failure(p.status, [v.version], Reason.NO_RESULT, message)
            p.say(EventReason.BENCHMARK_FAILED, f"{label}: {message}", True)
            continue
        p.status = lifecycle.record_metrics(p.spec, p.status, v.version, m)
        p.say(
            EventReason.BENCHMARKED,
            f"{label}: macro-F1 {m.macro_f1:.4f}, p50 {m.p50_ms:.1f} ms, p95 {m.p95_ms:.1f} ms, "
            f"{m.throughput_rps:.0f} req/s, ${m.cost_per_1m:.4f}/1M",
        )
    promoted = p.status.promoted
    fresh = observed.metrics.get(promoted.version) if promoted is not None else None
    incumbent = p.status.version(promoted.version) if promoted is not None else None
    if fresh is not None and incumbent is not None and incumbent not in versions and incumbent.metrics != fresh:
        p.status = lifecycle.remeasure(p.status, incumbent.version, fresh)
        p.say(EventReason.BENCHMARKED, f"v{incumbent.version} (promoted) measured again beside its challengers")


# ------------------------------------------------------------------------------------------ cancellation


def _cancel_superseded(p: _Planning) -> None:
    """Running work no version needs any more: training and benchmarks of an earlier generation.
    Finished work is left alone (its results and logs are the versions' history)."""
    for key in p.world.running():
        if isinstance(key, TrainingKey) and key.generation != p.generation:
            why = f"trains for spec generation {key.generation}; the spec now asks for generation {p.generation}"
        elif isinstance(key, BenchmarkKey) and key.generation != p.generation:
            why = f"benchmarks spec generation {key.generation}; the spec now asks for generation {p.generation}"
        else:
            continue
        p.actions.append(Cancel(key, why))
        p.say(EventReason.CANCELLED, why)


# --------------------------------------------------------------------------------------------- serving


def _serving(p: _Planning, before: ClassifierModelStatus) -> None:
    """Make Triton serve what the decision chose (level-triggered: also after a Triton restart).

    A version promoted under another stable name (``serving.modelName`` changed) keeps serving there;
    the new name serves once a version of the new generation is promoted under it."""
    promoted = p.status.promoted
    decision = p.status.decision
    was = before.promoted.version if before.promoted else None
    if promoted is not None and (promoted.version != was or promoted.model_name is None):
        promoted = promoted.model_copy(update={"model_name": p.model_name})
    serving = ServingStatus(model_name=p.model_name, url=p.status.serving.url if p.status.serving else None)
    p.status = p.status.model_copy(update={"promoted": promoted, "serving": serving})
    served = p.world.served
    here = promoted is not None and promoted.model_name == p.model_name
    if promoted is not None and here and served.known and served.version != promoted.version:
        chosen = p.status.version(promoted.version)
        what = _contender(chosen) if chosen is not None and chosen.artifact is not None else None
        p.actions.append(Promote(promoted.version, served.version, what))
    never = {v.version for v in p.status.versions if v.state in NEVER_SERVED}
    serving_now = {promoted.version} if promoted is not None else set()
    p.actions.extend(Unload(n) for n in sorted(served.loaded & never - serving_now))
    if promoted is not None and promoted.version != was and decision is not None:
        p.say(
            EventReason.PROMOTED,
            f"{decision.action}: now serving v{promoted.version} ({promoted.candidate}/{promoted.precision}); "
            f"{decision.message}",
        )
    elif decision is not None and decision != before.decision and decision.action == "recommend":
        p.say(EventReason.RECOMMENDED, decision.message)
