"""The lifecycle's bookkeeping over ``status``, shared by ``frontier run`` and the operator. Pure.

Every function takes the spec and the status as they are and returns a new status; none performs
I/O or reads a clock (``now`` is passed in). ``frontier.decision.planner`` calls them in order:

- ``plan_versions``: a version entry per candidate × precision of the current spec generation, with
  numbers that never change once given;
- ``record_failure`` / ``record_metrics``: what training and benchmarks observed;
- ``reprice``: every measured version's cost under the spec's current prices;
- ``apply_decision``: utility, Pareto front, rollback or promotion, the explanation;
- ``summarize``: phase, conditions and observedGeneration.

Every change of a version's state goes through ``states.move`` (the table of legal moves).
"""

from __future__ import annotations

from collections.abc import Iterable

from frontier.api.spec import ClassifierModelSpec, Pricing
from frontier.api.status import (
    ClassifierModelStatus,
    Condition,
    ConditionType,
    Decision,
    Interval,
    Metrics,
    ModelVersion,
    Phase,
    PromotedVersion,
    PromotionRecord,
    VersionScore,
    VersionState,
)
from frontier.decision import baselines, generations, pricing, promotion, rollback, states, variants
from frontier.decision.promotion import DecisionReason
from frontier.decision.states import IN_TRAINING, MEASURED, Reason
from frontier.decision.values import Guardrails, Measured, Policy, Span

S = VersionState
IN_BENCHMARK = states.AWAITING_BENCHMARK
HISTORY_LIMIT = 50


def current_generation(status: ClassifierModelStatus) -> int:
    return generations.current_generation(status)


def policy_of(spec: ClassifierModelSpec) -> Policy:
    p = spec.promotion
    return Policy(
        tau_ms=p.tau_ms,
        percentile=p.latency_percentile,
        guardrails=Guardrails(p.guardrails.min_macro_f1, p.guardrails.max_p95_ms, p.guardrails.max_cost_per_1m),
        mode=p.policy,
        pinned_version=p.pinned_version,
        min_improvement=p.min_improvement,
        rollback=p.rollback,
    )


def plan_versions(
    spec: ClassifierModelSpec, generation: int, status: ClassifierModelStatus, now: str
) -> ClassifierModelStatus:
    """Pending versions for what ``generation`` asks and nothing has yet; older generations retire."""
    promoted = status.promoted.version if status.promoted else None
    versions = [
        states.move(v, S.RETIRED, reason=Reason.SPEC_CHANGED)
        if v.spec_generation < generation and v.version != promoted and v.state != S.RETIRED
        else v
        for v in status.versions
    ]
    have = {v.key for v in versions}
    number = max((v.version for v in versions), default=0)
    for candidate in spec.candidates:
        for precision in spec.export.precisions:
            if (candidate.name, precision, generation) in have:
                continue
            number += 1
            versions.append(
                ModelVersion(
                    version=number,
                    candidate=candidate.name,
                    precision=precision,
                    spec_generation=generation,
                    state=S.PENDING,
                    created_at=now,
                    training_digest=generations.training_digest(spec, candidate),
                )
            )
    return status.model_copy(update={"versions": versions})


def set_state(
    status: ClassifierModelStatus, number: int, state: VersionState, **update: object
) -> ClassifierModelStatus:
    """``status`` with version ``number`` moved to ``state`` (``states.IllegalTransition`` if it may not)."""
    if status.version(number) is None:
        raise KeyError(f"no version {number} in status")
    versions = [states.move(v, state, **update) if v.version == number else v for v in status.versions]
    return status.model_copy(update={"versions": versions})


def record_failure(
    status: ClassifierModelStatus, numbers: Iterable[int], reason: str, message: str
) -> ClassifierModelStatus:
    for number in numbers:
        status = set_state(status, number, S.FAILED, reason=reason, message=message[-4000:])
    return status


def record_metrics(
    spec: ClassifierModelSpec, status: ClassifierModelStatus, number: int, metrics: Metrics
) -> ClassifierModelStatus:
    """A benchmarked version becomes Ready, or Rejected when a reduced precision disagrees with fp32."""
    version = status.version(number)
    if version is None:
        raise KeyError(f"no version {number} in status")
    verdict = None
    if version.precision != "fp32" and metrics.agreement is not None:
        verdict = variants.agreement_verdict(metrics.agreement, spec.export.min_agreement)
    if verdict:
        return set_state(
            status, number, S.REJECTED, metrics=metrics, reason=Reason.DISAGREES_WITH_FP32, message=verdict
        )
    state = S.PROMOTED if status.promoted and status.promoted.version == number else S.READY
    return set_state(status, number, state, metrics=metrics, reason=None, message=None)


def remeasure(status: ClassifierModelStatus, number: int, metrics: Metrics) -> ClassifierModelStatus:
    """A fresh measurement of a version already measured (the promoted one, beside its challengers)."""
    version = status.version(number)
    if version is None:
        raise KeyError(f"no version {number} in status")
    return set_state(status, number, version.state, metrics=metrics)


def reprice(spec: ClassifierModelSpec, status: ClassifierModelStatus) -> ClassifierModelStatus:
    """Each measured version's ``costPer1M`` under ``spec.benchmark.pricing`` as it is now (see ``pricing``)."""
    prices = spec.benchmark.pricing
    versions, changed = [], False
    for v in status.versions:
        m = v.metrics
        if m is not None and (prices.cost_model == "occupancy" or m.throughput_rps > 0):
            now = pricing.cost_per_1m(prices, m.p50_ms, m.throughput_rps)
            if abs(now - m.cost_per_1m) > 1e-9 * max(1.0, now):
                v = v.model_copy(update={"metrics": m.model_copy(update={"cost_per_1m": now})})
                changed = True
        versions.append(v)
    return status.model_copy(update={"versions": versions}) if changed else status


def _against_baselines(status: ClassifierModelStatus, versions: list[ModelVersion], serving: int | None) -> str:
    served = next((v for v in versions if v.version == serving), None)
    if served is None or served.metrics is None:
        return ""
    return baselines.comparison(served.version, served.metrics, status.baselines)


def _span(interval: Interval | None) -> Span | None:
    return (interval.low, interval.high) if interval is not None else None


def _measured(version: ModelVersion, prices: Pricing) -> Measured:
    assert version.metrics is not None
    m = version.metrics
    latency = {
        p: span
        for p, span in (
            ("p50", _span(m.p50_interval_ms)),
            ("p95", _span(m.p95_interval_ms)),
            ("p99", _span(m.p99_interval_ms)),
        )
        if span is not None
    }
    return Measured(
        version=version.version,
        candidate=version.candidate,
        precision=version.precision,
        macro_f1=m.macro_f1,
        p50_ms=m.p50_ms,
        p95_ms=m.p95_ms,
        p99_ms=m.p99_ms,
        cost_per_1m=m.cost_per_1m,
        eligible=version.state != S.REJECTED,
        note=version.message if version.state == S.REJECTED else None,
        macro_f1_span=_span(m.macro_f1_interval),
        latency_spans=latency,
        cost_span=pricing.cost_span(prices, m),
    )


def apply_decision(
    spec: ClassifierModelSpec, status: ClassifierModelStatus, now: str, generation: int | None = None
) -> ClassifierModelStatus:
    """Score the measured versions of the current generation and decide what the stable name serves."""
    generation = current_generation(status) if generation is None else generation
    status = reprice(spec, status)
    pool = [v for v in status.versions if v.spec_generation == generation and v.state in MEASURED and v.metrics]
    pool += _incumbent_measured_with(status, pool)
    if not pool:
        return status
    policy = policy_of(spec)
    measured = [_measured(v, spec.benchmark.pricing) for v in pool]
    promoted = status.promoted.version if status.promoted else None
    history = [r.version for r in status.history]

    outcome = (
        rollback.decide(measured, promoted, history, policy) if promoted in {m.version for m in measured} else None
    )
    if outcome is None:
        outcome = promotion.decide(measured, promoted, policy)
    table = {s.version: s for s in outcome.scores}

    serving = outcome.version
    versions = []
    for v in status.versions:
        score = table.get(v.version)
        update: dict[str, object] = {}
        if score is not None:
            update = {"utility": score.utility, "on_pareto_front": score.on_front}
        state = v.state
        if v.spec_generation < generation and v.state == S.PROMOTED and v.version != serving:
            state = S.RETIRED  # an older generation's version that no longer serves
        elif v.state in states.SERVABLE:
            state = S.PROMOTED if v.version == serving else S.READY
        versions.append(states.move(v, state, **update))

    new_promoted = status.promoted
    history_records = list(status.history)
    if serving is None:
        new_promoted = None
    elif serving != promoted or new_promoted is None:
        chosen = next(v for v in versions if v.version == serving)
        m = chosen.metrics
        new_promoted = PromotedVersion(
            version=serving,
            candidate=chosen.candidate,
            precision=chosen.precision,
            since=now,
            utility=table[serving].utility if serving in table else None,
            macro_f1=m.macro_f1 if m else None,
            p95_ms=m.p95_ms if m else None,
            cost_per_1m=m.cost_per_1m if m else None,
            test_macro_f1=m.test.macro_f1 if m and m.test else None,
        )
        history_records = [
            *history_records,
            PromotionRecord(version=serving, since=now, action=outcome.action),
        ]
    elif serving in table and new_promoted is not None:
        chosen = next(v for v in versions if v.version == serving)
        m = chosen.metrics
        new_promoted = new_promoted.model_copy(
            update={
                "utility": table[serving].utility,
                "macro_f1": m.macro_f1 if m else None,
                "p95_ms": m.p95_ms if m else None,
                "test_macro_f1": m.test.macro_f1 if m and m.test else None,
                "cost_per_1m": m.cost_per_1m if m else None,
            }
        )

    generation_of = {v.version: v.spec_generation for v in pool}
    decision = Decision(
        action=outcome.action,
        version=serving,
        previous_version=outcome.previous_version,
        reason=outcome.reason,
        message=outcome.message + _disturbances(pool) + _against_baselines(status, versions, serving),
        decided_at=now,
        scores=[
            VersionScore(
                version=s.version,
                utility=s.utility,
                on_pareto_front=s.on_front,
                guardrail_failures=list(s.failures),
                note=s.note,
                utility_low=s.utility_span[0] if s.utility_span else None,
                utility_high=s.utility_span[1] if s.utility_span else None,
            )
            for s in outcome.scores
        ],
        variants=variants.comparisons(measured, generation_of),
    )
    old = status.decision
    if old is not None and outcome.reason == DecisionReason.ALREADY_PROMOTED and old.version == serving:
        # Still the same winner: keep the record of the promotion (what, when, from which version),
        # refresh only the numbers, so a resync writes nothing new.
        decision = decision.model_copy(
            update={k: getattr(old, k) for k in ("action", "reason", "previous_version", "decided_at")}
        )
    if old is not None and old.model_copy(update={"decided_at": now}) == decision.model_copy(
        update={"decided_at": now}
    ):
        decision = old
    return status.model_copy(
        update={
            "versions": versions,
            "promoted": new_promoted,
            "history": history_records[-HISTORY_LIMIT:],
            "decision": decision,
        }
    )


def _incumbent_measured_with(status: ClassifierModelStatus, pool: list[ModelVersion]) -> list[ModelVersion]:
    """The earlier generation's version measured again beside this pool — the one promoted when the
    challengers were benchmarked: they are compared with it (hysteresis, ties), not with an old number.
    Found by the measurement, not by what is promoted now, so deciding again over the same measurements
    (level-triggered) sees the same versions after a challenger has replaced it."""
    challengers = {v.version for v in pool}
    return [
        v
        for v in status.versions
        if v not in pool and v.metrics is not None and challengers & set(v.metrics.measured_with)
    ]


def _disturbances(pool: list[ModelVersion]) -> str:
    """What the decision record says about measurements taken under interference."""
    noisy = [v for v in pool if v.metrics is not None and v.metrics.disturbed]
    if not noisy:
        return ""
    parts = [
        f"v{v.version} (other processes took {v.metrics.interference_cores or 0.0:.1f} cores)"
        for v in noisy
        if v.metrics is not None
    ]
    return "; measured while the machine was disturbed: " + ", ".join(parts) + " — the intervals carry it"


def _condition(
    previous: dict[str, Condition],
    type_: ConditionType,
    ok: bool,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> Condition:
    status = "True" if ok else "False"
    before = previous.get(type_)
    since = before.last_transition_time if before is not None and before.status == status else now
    return Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=since,
        observed_generation=generation,
    )


def summarize(
    spec: ClassifierModelSpec, generation: int, status: ClassifierModelStatus, now: str
) -> ClassifierModelStatus:
    """Phase and conditions from the versions and the decision; observedGeneration = ``generation``."""
    current = [v for v in status.versions if v.spec_generation == generation]
    training = [v for v in current if v.state in IN_TRAINING]
    benchmarking = [v for v in current if v.state in IN_BENCHMARK]
    failed = [v for v in current if v.state == S.FAILED]
    measured = [v for v in current if v.state in MEASURED]
    decision = status.decision
    promoted = status.promoted
    reason = _reason(decision)
    regressed = reason is not None and reason.degrades
    nothing_qualifies = reason == DecisionReason.NO_QUALIFYING_VERSION and not training and not benchmarking

    if failed:
        first = failed[0]
        degraded = (
            True,
            "VersionFailed",
            f"{len(failed)} version(s) failed; v{first.version}: {first.reason}: {(first.message or '')[-500:]}",
        )
    elif (regressed or nothing_qualifies) and decision is not None:
        degraded = (True, decision.reason, decision.message)
    else:
        degraded = (False, "AsExpected", "")

    if training:
        phase = Phase.TRAINING
    elif benchmarking:
        phase = Phase.BENCHMARKING
    elif current and len(failed) == len(current) and promoted is None:
        phase = Phase.FAILED
    elif degraded[0]:
        phase = Phase.DEGRADED
    elif measured or promoted:
        phase = Phase.READY
    else:
        phase = Phase.PENDING

    previous = {c.type: c for c in status.conditions}
    n = len(current)
    serving = phase == Phase.READY and promoted is not None
    settled = bool(measured) and not training and not benchmarking
    conditions = [
        _condition(
            previous,
            ConditionType.READY,
            serving,
            "Serving" if serving else phase,
            f"serving v{promoted.version} ({promoted.candidate}/{promoted.precision})"
            if promoted
            else "nothing served yet",
            generation,
            now,
        ),
        _condition(
            previous,
            ConditionType.TRAINING,
            bool(training),
            "TrainingInProgress" if training else ("TrainingFailed" if failed else "TrainingComplete"),
            f"{len(training)} of {n} version(s) waiting for training",
            generation,
            now,
        ),
        _condition(
            previous,
            ConditionType.BENCHMARKED,
            bool(current) and settled,
            "AllVersionsMeasured" if settled else "Measuring",
            f"{len(measured)} of {n} version(s) measured",
            generation,
            now,
        ),
        _condition(
            previous,
            ConditionType.PROMOTED,
            promoted is not None,
            decision.reason if decision else "NoVersionYet",
            decision.message if decision else "no version measured yet",
            generation,
            now,
        ),
        _condition(previous, ConditionType.DEGRADED, degraded[0], degraded[1], degraded[2], generation, now),
    ]
    asked = [b for b in status.baselines if b.kind == "llm"]
    if asked:  # only a spec with llm baselines has the condition
        waiting = next((b for b in asked if b.measured is None), None)
        conditions.append(
            _condition(
                previous,
                ConditionType.BASELINES_MEASURED,
                waiting is None,
                (waiting.reason or "Measuring") if waiting else "AllBaselinesMeasured",
                f"{waiting.name}: {waiting.message}" if waiting else f"{len(asked)} LLM baseline(s) measured",
                generation,
                now,
            )
        )
    return status.model_copy(update={"phase": phase, "conditions": conditions, "observed_generation": generation})


def _reason(decision: Decision | None) -> DecisionReason | None:
    if decision is None:
        return None
    try:
        return DecisionReason(decision.reason)
    except ValueError:  # written by an older operator
        return None
