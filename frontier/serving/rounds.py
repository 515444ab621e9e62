"""Versions measured together: interleaved rounds on one server and one load generator, with intervals.

A decision compares versions; so they are measured side by side, never one after another. Each round
runs every contender at every concurrency level twice, in mirrored order — A B C C B A, then B C A A C B … (the
order also rotates) — so linear drift, warm caches of whoever just ran, thermal state and neighbours hit all of
them alike (each version's p50 relative to the lowest version's, ``Metrics.p50_relative``, is bootstrapped over
the rounds they shared, where that drift cancels), and the
promoted version is always measured afresh next to its challengers. Rounds continue until every
contender's p50 interval (``intervals``) is narrower than ``Budget.target_width`` of its value, or the
budget (``max_rounds``, ``max_seconds``) is spent; ``Metrics.stable`` says which. That width is also the
resolution a latency or throughput is reported with: an interval is never narrower than it (two processes
of one model on a shared CPU differ by a few percent, a difference no decision should rest on).

Around every slot ``interference.Monitor`` measures what other processes took of the machine. A round in
which any slot was taken under more than ``Budget.interference_cores`` is set aside and measured again, for
every contender alike (up to ``retries`` rounds; then disturbed rounds count, and the intervals carry the
noise); a version measured under interference is marked ``disturbed`` either way, and the decision names it.

``spec.requests`` is the number of requests per version and level over the first ``min_rounds`` rounds;
quality (macro-F1 with a bootstrap interval over the rows, agreement with the trainer) is scored once per
version on its own eval rows after the rounds; then on the test rows, when the spec has them (``metrics.test``,
for people: nothing that selects or promotes reads it).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from frontier.api.spec import BenchmarkSpec
from frontier.api.status import Interval, Metrics, RelativeLatency, ScoreOnTest
from frontier.errors import ServingError
from frontier.serving import intervals, loadgen, scoring
from frontier.serving.benchmark import BenchmarkReport, LevelResult, capacity_level, price
from frontier.serving.interference import Interference, Monitor


@dataclass(frozen=True)
class Contender:
    version: int
    model: str
    """The Triton model that serves exactly this version (``<m>__vN``)."""
    texts: Sequence[str]
    gold: Sequence[int | str]
    reference: Sequence[int | str] | None = None
    test_texts: Sequence[str] = ()
    """``dataset.test``: scored after the measurement into ``metrics.test``, which no decision reads."""
    test_gold: Sequence[int | str] = ()


@dataclass(frozen=True)
class Budget:
    min_rounds: int = 3
    max_rounds: int = 8
    target_width: float = 0.10
    """Stop when every p50 interval is narrower than this share of its p50."""
    max_seconds: float | None = 600.0
    interference_cores: float = 0.5
    """A round during which other processes took more CPU than this, in any slot, is measured again."""
    retries: int = 4
    """How many disturbed rounds are set aside and measured again; after that they count (and the
    versions are marked disturbed either way)."""


@dataclass
class _Track:
    """What the rounds measured for one contender at one concurrency level."""

    rounds: list[list[float]] = field(default_factory=list)
    throughputs: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    errors: int = 0

    def level(self, concurrency: int) -> LevelResult:
        pooled = np.concatenate([np.asarray(r) for r in self.rounds]) if self.rounds else np.zeros(0)

        def pct(q: float) -> float:
            return float(np.percentile(pooled, q)) if pooled.size else 0.0

        return LevelResult(
            concurrency=concurrency,
            requests=int(pooled.size),
            errors=self.errors,
            p50_ms=pct(50),
            p95_ms=pct(95),
            p99_ms=pct(99),
            throughput_rps=float(np.mean(self.throughputs)) if self.throughputs else 0.0,
            wall_s=self.wall_s,
            client_cpu_s=self.client_cpu_s,
        )


@dataclass
class _Contending:
    contender: Contender
    tracks: dict[int, _Track]
    interference: list[Interference] = field(default_factory=list)
    disturbed_slots: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)


def _rotated(items: Sequence[_Contending], by: int) -> list[_Contending]:
    k = by % len(items)
    return [*items[k:], *items[:k]]


async def measure_together(
    url: str,
    contenders: Sequence[Contender],
    labels: Sequence[str],
    spec: BenchmarkSpec,
    *,
    max_p95_ms: float | None = None,
    budget: Budget | None = None,
    monitor: Monitor | None = None,
) -> dict[int, BenchmarkReport]:
    """Measure every contender in interleaved rounds; ``{version: report}``."""
    if not contenders:
        raise ServingError("nothing to measure")
    budget = budget or Budget()
    monitor = monitor or Monitor()
    limit = spec.eval_samples
    workload = loadgen.prepare(list(contenders[0].texts)[:limit] if limit else list(contenders[0].texts))
    if not workload:
        raise ServingError("the benchmark needs at least one eval text")
    states = [_Contending(c, {level: _Track() for level in spec.concurrency}) for c in contenders]
    top = max(spec.concurrency)
    for state in states:  # warm every contender before any is measured
        if spec.warmup_requests:
            warm = await loadgen.run_load(url, state.contender.model, workload, top, total=spec.warmup_requests)
            _count_errors(state, warm)

    per_round = max(10, math.ceil(spec.requests / budget.min_rounds))
    started, done, attempt, set_aside = time.monotonic(), 0, 0, 0
    while True:
        order = _rotated(states, attempt)
        slots = [  # A B C C B A: each contender before and after every other one, so drift and order cancel
            await _slot(url, state, level, workload, math.ceil(per_round / 2), monitor)
            for state in [*order, *reversed(order)]
            for level in spec.concurrency
        ]
        attempt += 1
        disturbed = any(slot.seen.cores > budget.interference_cores for slot in slots)
        for slot in slots:
            slot.state.interference.append(slot.seen)
            slot.state.disturbed_slots += slot.seen.cores > budget.interference_cores
            _count_errors(slot.state, slot.result)
        if disturbed and set_aside < budget.retries:
            set_aside += 1  # a neighbour's burst: the whole round is measured again, for every contender
            continue
        for slot in slots:
            slot.commit()
        done += 1
        if done < budget.min_rounds:
            continue
        out_of_time = budget.max_seconds is not None and time.monotonic() - started >= budget.max_seconds
        if done >= budget.max_rounds or out_of_time or _narrow(states, min(spec.concurrency), budget):
            break

    lowest = min(spec.concurrency)
    stable = _narrow(states, lowest, budget)
    versions = sorted(c.version for c in contenders)
    reference = min(states, key=lambda s: s.contender.version)
    reports = {}
    for state in states:
        report = await _report(
            url,
            state,
            labels,
            spec,
            max_p95_ms,
            done,
            stable,
            [v for v in versions if v != state.contender.version],
            budget.target_width,
        )
        if state is not reference:
            report.metrics.p50_relative = _relative(reference, state, lowest, budget.target_width)
        reports[state.contender.version] = report
    return reports


def _relative(reference: _Contending, state: _Contending, level: int, resolution: float) -> RelativeLatency | None:
    """``state``'s p50 over ``reference``'s, at the lowest concurrency, from the rounds they shared; no
    narrower than ``resolution`` (two copies of one model differ by a few percent, as absolute p50s do)."""
    ours, theirs = state.tracks[level], reference.tracks[level]
    base = theirs.level(level).p50_ms
    if base <= 0 or not ours.rounds:
        return None
    ratio = ours.level(level).p50_ms / base
    low, high = intervals.at_least(intervals.paired_ratio(theirs.rounds, ours.rounds, 50), ratio, resolution)
    return RelativeLatency(to_version=reference.contender.version, ratio=ratio, interval=Interval(low=low, high=high))


@dataclass
class _Slot:
    """One contender at one level in one round, and what the rest of the machine did meanwhile."""

    state: _Contending
    level: int
    result: loadgen.LoadResult
    seen: Interference

    def commit(self) -> None:
        track = self.state.tracks[self.level]
        track.rounds.append(self.result.latencies_ms)
        track.throughputs.append(self.result.throughput_rps)
        track.wall_s += self.result.wall_s
        track.client_cpu_s += self.result.client_cpu_s
        track.errors += self.result.errors


async def _slot(
    url: str,
    state: _Contending,
    level: int,
    workload: list[loadgen.PreparedRequest],
    requests: int,
    monitor: Monitor,
) -> _Slot:
    before = monitor.sample()
    result = await loadgen.run_load(url, state.contender.model, workload, level, total=requests)
    return _Slot(state, level, result, Monitor.between(before, monitor.sample()))


def _count_errors(state: _Contending, result: loadgen.LoadResult) -> None:
    state.errors += result.errors
    state.messages.extend(result.error_messages[: max(0, 10 - len(state.messages))])


def _narrow(states: Sequence[_Contending], level: int, budget: Budget) -> bool:
    for state in states:
        track = state.tracks[level]
        centre = track.level(level).p50_ms
        if intervals.relative_width(intervals.percentile(track.rounds, 50), centre) > budget.target_width:
            return False
    return True


async def _report(
    url: str,
    state: _Contending,
    labels: Sequence[str],
    spec: BenchmarkSpec,
    max_p95_ms: float | None,
    rounds: int,
    stable: bool,
    others: list[int],
    resolution: float,
) -> BenchmarkReport:
    contender = state.contender
    limit = spec.eval_samples or len(contender.texts)
    texts, gold = list(contender.texts)[:limit], list(contender.gold)[:limit]
    scored = await loadgen.run_load(
        url, contender.model, loadgen.prepare(texts), max(spec.concurrency), decode_labels=True
    )
    _count_errors(state, scored)
    quality = scoring.score(scored.labels, gold, labels, contender.reference)
    y_true = np.array(scoring.indices(gold, labels), dtype=np.int64)
    y_pred = np.array(scoring.indices(scored.labels, labels), dtype=np.int64)
    f1_low, f1_high = intervals.macro_f1(y_true, y_pred, len(labels))
    tested = await _score_test(url, state, labels, max(spec.concurrency))

    levels = [track.level(level) for level, track in sorted(state.tracks.items())]
    usable = [lv for lv in levels if lv.requests > 0]
    if not usable:
        raise ServingError(f"{contender.model}: no request succeeded; first errors: {state.messages[:3]}")
    lowest = min(usable, key=lambda lv: lv.concurrency)
    capacity = capacity_level(levels, max_p95_ms)
    cost, priced = price(levels, spec.pricing, max_p95_ms)
    low_rounds = state.tracks[lowest.concurrency].rounds

    def interval(q: float) -> Interval:
        value = {50: lowest.p50_ms, 95: lowest.p95_ms, 99: lowest.p99_ms}[int(q)]
        low, high = intervals.at_least(intervals.percentile(low_rounds, q), value, resolution)
        return Interval(low=low, high=high)

    throughputs = intervals.mean(state.tracks[capacity.concurrency].throughputs)
    t_low, t_high = intervals.at_least(throughputs, capacity.throughput_rps, resolution)
    interference = [s.cores for s in state.interference]
    metrics = Metrics(
        macro_f1=quality.macro_f1,
        accuracy=quality.accuracy,
        p50_ms=lowest.p50_ms,
        p95_ms=lowest.p95_ms,
        p99_ms=lowest.p99_ms,
        throughput_rps=capacity.throughput_rps,
        cost_per_1m=cost,
        concurrency=priced.concurrency,
        errors=state.errors,
        agreement=quality.agreement,
        macro_f1_interval=Interval(low=f1_low, high=f1_high),
        p50_interval_ms=interval(50),
        p95_interval_ms=interval(95),
        p99_interval_ms=interval(99),
        throughput_interval_rps=Interval(low=t_low, high=t_high),
        rounds=rounds,
        stable=stable,
        interference_cores=float(np.mean(interference)) if interference else 0.0,
        steal=float(np.mean([s.steal for s in state.interference])) if state.interference else 0.0,
        disturbed=state.disturbed_slots > 0,
        measured_with=others,
        test=tested,
    )
    return BenchmarkReport(
        model=contender.model, levels=levels, metrics=metrics, scored=quality.scored, error_messages=state.messages
    )


async def _score_test(url: str, state: _Contending, labels: Sequence[str], concurrency: int) -> ScoreOnTest | None:
    """The contender's labels for the test rows, scored; None when the spec has no test split."""
    contender = state.contender
    if not contender.test_texts:
        return None
    served = await loadgen.run_load(
        url, contender.model, loadgen.prepare(list(contender.test_texts)), concurrency, decode_labels=True
    )
    quality = scoring.score(served.labels, contender.test_gold, labels)
    y_true = np.array(scoring.indices(contender.test_gold, labels), dtype=np.int64)
    y_pred = np.array(scoring.indices(served.labels, labels), dtype=np.int64)
    low, high = intervals.macro_f1(y_true, y_pred, len(labels))
    return ScoreOnTest(
        macro_f1=quality.macro_f1,
        accuracy=quality.accuracy,
        rows=quality.scored,
        macro_f1_interval=Interval(low=low, high=high),
        errors=served.errors,
    )


def benchmark_together(
    url: str,
    contenders: Sequence[Contender],
    labels: Sequence[str],
    spec: BenchmarkSpec,
    *,
    max_p95_ms: float | None = None,
    budget: Budget | None = None,
    monitor: Monitor | None = None,
) -> dict[int, Metrics]:
    """``measure_together`` from synchronous code (its own event loop)."""
    reports = asyncio.run(
        measure_together(url, contenders, labels, spec, max_p95_ms=max_p95_ms, budget=budget, monitor=monitor)
    )
    return {version: report.metrics for version, report in reports.items()}
