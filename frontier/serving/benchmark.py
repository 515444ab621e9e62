"""The benchmark of one served version through Triton: quality, latency, throughput and cost → ``Metrics``.

What is measured, in this order, against the Triton model that serves exactly the version:

1. **Warm-up**: ``warmupRequests`` requests at the highest concurrency, discarded.
2. **Load**: at each ``concurrency`` level, ``requests`` single-text requests from a closed-loop asyncio
   generator (``frontier.serving.loadgen``) cycling over the eval texts: p50/p95/p99 latency, throughput,
   errors, and the generator's own CPU seconds per wall second (to show it was not the bottleneck).
3. **Quality**: every eval text (at most ``evalSamples``) once, at the highest concurrency; macro-F1 and
   accuracy of the labels *Triton returned* (the served path is what is scored: tokenizer, batching and
   all), and the agreement with the trainer's own predictions (``predictions.json``) when given.

Which numbers land in ``Metrics``:

* ``p50/p95/p99Ms``: the *lowest* concurrency level (1 by default): the latency one caller sees.
* ``throughputRps`` and ``concurrency``: the level with the highest throughput whose p95 meets the
  ``maxP95Ms`` guardrail (the highest throughput overall when there is no such guardrail, or when no
  level meets it).
* ``costPer1M`` (``frontier.decision.pricing``, priced from ``benchmark.pricing``):

  - ``occupancy`` — the paper's (arXiv 2602.06370) Cloud Run model: each request is billed for its latency
    on the whole instance, so ``cost = 1e6 · p50_s(c=1) · instance_usd_per_s + fee`` (≈ 0.053 · p50_ms with
    the default 2 vCPU / 2 GiB Cloud Run prices). Here ``cost.occupancy(p50 at the lowest level)``.
  - ``dedicated`` — an always-on replica: ``cost = instance_usd_per_hour / (throughput_rps · 3600) · 1e6 +
    fee``, with the throughput chosen above (``cost.dedicated``).

  The decision core re-prices these two figures under the spec's current prices
  (``frontier.decision.pricing``), so the cost reported here is the one at the prices of the run.
* ``errors``: failed requests over warm-up, every level and the scoring pass.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from frontier.api.spec import BenchmarkSpec, Pricing
from frontier.api.status import Metrics
from frontier.decision import pricing as prices
from frontier.errors import ServingError
from frontier.serving import loadgen, scoring


@dataclass(frozen=True)
class LevelResult:
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    throughput_rps: float
    wall_s: float
    client_cpu_s: float

    @classmethod
    def of(cls, result: loadgen.LoadResult) -> LevelResult:
        return cls(
            concurrency=result.concurrency,
            requests=result.completed,
            errors=result.errors,
            p50_ms=result.percentile(50),
            p95_ms=result.percentile(95),
            p99_ms=result.percentile(99),
            throughput_rps=result.throughput_rps,
            wall_s=result.wall_s,
            client_cpu_s=result.client_cpu_s,
        )

    @property
    def client_cpu_share(self) -> float:
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0


@dataclass
class BenchmarkReport:
    model: str
    levels: list[LevelResult]
    metrics: Metrics
    scored: int
    error_messages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "metrics": self.metrics.to_wire(),
            "scored": self.scored,
            "levels": [dict(vars(level), client_cpu_share=level.client_cpu_share) for level in self.levels],
            "errorMessages": self.error_messages,
        }


def capacity_level(levels: Sequence[LevelResult], max_p95_ms: float | None) -> LevelResult:
    """The highest-throughput level within the p95 guardrail (any level when none meets it)."""
    usable = [lv for lv in levels if lv.requests > 0]
    if not usable:
        raise ServingError("the benchmark completed no request at any concurrency level")
    within = [lv for lv in usable if max_p95_ms is None or lv.p95_ms <= max_p95_ms]
    return max(within or usable, key=lambda lv: lv.throughput_rps)


def price(levels: Sequence[LevelResult], pricing: Pricing, max_p95_ms: float | None) -> tuple[float, LevelResult]:
    """(cost per 1M requests, the level that priced it)."""
    latency = min((lv for lv in levels if lv.requests > 0), key=lambda lv: lv.concurrency)
    capacity = capacity_level(levels, max_p95_ms)
    priced = latency if pricing.cost_model == "occupancy" else capacity
    return prices.cost_per_1m(pricing, latency.p50_ms, capacity.throughput_rps), priced


async def measure(
    url: str,
    model: str,
    texts: Sequence[str],
    gold: Sequence[int | str],
    labels: Sequence[str],
    spec: BenchmarkSpec,
    *,
    max_p95_ms: float | None = None,
    reference: Sequence[int | str] | None = None,
    version: int | None = None,
) -> BenchmarkReport:
    """The whole benchmark of ``model`` (optionally pinned to ``version``) at ``url`` (``host:port``)."""
    if not texts:
        raise ServingError("the benchmark needs at least one eval text")
    limit = spec.eval_samples or len(texts)
    texts, gold = list(texts)[:limit], list(gold)[:limit]
    workload = loadgen.prepare(texts)
    top = max(spec.concurrency)
    errors, messages = 0, list[str]()
    if spec.warmup_requests:
        warm = await loadgen.run_load(url, model, workload, top, total=spec.warmup_requests, version=version)
        errors, messages = errors + warm.errors, messages + warm.error_messages
    levels = []
    for concurrency in spec.concurrency:
        result = await loadgen.run_load(url, model, workload, concurrency, total=spec.requests, version=version)
        errors, messages = errors + result.errors, messages + result.error_messages
        levels.append(LevelResult.of(result))
    scored = await loadgen.run_load(url, model, workload, top, version=version, decode_labels=True)
    errors, messages = errors + scored.errors, messages + scored.error_messages
    quality = scoring.score(scored.labels, gold, labels, reference)

    latency = min((lv for lv in levels if lv.requests > 0), default=None, key=lambda lv: lv.concurrency)
    if latency is None:
        raise ServingError(f"{model}: no request succeeded; first errors: {messages[:3]}")
    cost_per_1m, priced = price(levels, spec.pricing, max_p95_ms)
    capacity = capacity_level(levels, max_p95_ms)
    metrics = Metrics(
        macro_f1=quality.macro_f1,
        accuracy=quality.accuracy,
        p50_ms=latency.p50_ms,
        p95_ms=latency.p95_ms,
        p99_ms=latency.p99_ms,
        throughput_rps=capacity.throughput_rps,
        cost_per_1m=cost_per_1m,
        concurrency=priced.concurrency,
        errors=errors,
        agreement=quality.agreement,
    )
    return BenchmarkReport(
        model=model, levels=levels, metrics=metrics, scored=quality.scored, error_messages=messages[:10]
    )


def benchmark_version(
    url: str,
    model: str,
    texts: Sequence[str],
    gold: Sequence[int | str],
    labels: Sequence[str],
    spec: BenchmarkSpec,
    *,
    max_p95_ms: float | None = None,
    reference: Sequence[int | str] | None = None,
    version: int | None = None,
) -> Metrics:
    """``measure`` from synchronous code (runs its own event loop; not from inside a running loop)."""
    report = asyncio.run(
        measure(url, model, texts, gold, labels, spec, max_p95_ms=max_p95_ms, reference=reference, version=version)
    )
    return report.metrics
