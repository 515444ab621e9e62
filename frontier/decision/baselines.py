"""Baselines on the versions' front (``spec.baselines``): priced, scored with the same utility, compared in
the decision's words, never served. Pure.

A *declared* baseline's cost is its ``costPer1M``, or its mean tokens per request times the provider's token
prices (``cost.token_priced``): the paper's GPT-4o rows come out of their inputs through the same formula a
measured one uses. An *llm* baseline is measured by an executor (``MeasureBaseline``: a Job, or in-process
for ``frontier run``) once per ``digest`` of what the measurement depends on; its tokens from the API's
``usage`` are priced with the declared token prices.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from frontier.api.spec import BaselineSpec, ClassifierModelSpec
from frontier.api.status import BaselineStatus, Metrics
from frontier.decision import cost
from frontier.decision.utility import utility
from frontier.decision.work import BaselineMeasured, Failed, Observed, Running


def declared_cost(baseline: BaselineSpec) -> float:
    figures = baseline.declared
    assert figures is not None
    if figures.cost_per_1m is not None:
        return figures.cost_per_1m
    assert figures.input_tokens is not None and figures.output_tokens is not None  # the spec's rule
    assert figures.input_usd_per_1m_tokens is not None and figures.output_usd_per_1m_tokens is not None
    return cost.token_priced(
        figures.input_tokens,
        figures.output_tokens,
        figures.input_usd_per_1m_tokens,
        figures.output_usd_per_1m_tokens,
    )


def llm_digest(spec: ClassifierModelSpec, baseline: BaselineSpec) -> str:
    """What an ``llm`` baseline's measurement depends on: the endpoint and everything sent or counted, the
    labels and the rows (data spec, the eval rows' seed, the benchmark's eval limit). Not the credentials."""
    assert baseline.llm is not None
    llm = baseline.llm.to_wire()
    llm.pop("credentials", None)
    return hashlib.sha256(
        json.dumps(
            {
                "llm": llm,
                "labels": spec.labels,
                "dataset": spec.dataset.training_wire(),
                "seed": spec.candidates[0].hyperparameters.seed,
                "evalSamples": spec.benchmark.eval_samples,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:32]


def shown(
    spec: ClassifierModelSpec,
    previous: list[BaselineStatus] | None = None,
    observed: Mapping[str, Observed | None] | None = None,
) -> list[BaselineStatus]:
    """``status.baselines``, in the spec's order: declared ones priced; ``llm`` ones from this pass's
    observation, else the previous measurement when its digest still holds, else why there is none yet."""
    kept = {b.name: b for b in previous or []}
    seen = observed or {}
    out = []
    for baseline in spec.baselines:
        if baseline.declared is not None:
            out.append(_declared(spec, baseline))
            continue
        digest = llm_digest(spec, baseline)
        before = kept.get(baseline.name)
        found = seen.get(baseline.name)
        if isinstance(found, BaselineMeasured):
            out.append(_measured(spec, baseline, found))
        elif before is not None and before.measured is not None and before.measured.digest == digest:
            out.append(before)
        else:
            out.append(_waiting(baseline, found))
    return out


def _source(baseline: BaselineSpec) -> str:
    assert baseline.llm is not None
    return f"{baseline.llm.model} at {baseline.llm.endpoint} ({baseline.llm.prompt})"


def _declared(spec: ClassifierModelSpec, baseline: BaselineSpec) -> BaselineStatus:
    figures = baseline.declared
    assert figures is not None
    price = declared_cost(baseline)
    return BaselineStatus(
        name=baseline.name,
        macro_f1=figures.macro_f1,
        p50_ms=figures.p50_ms,
        p95_ms=figures.p95_ms,
        cost_per_1m=price,
        utility=_utility(spec, figures.macro_f1, figures.p50_ms, figures.p95_ms, None, price),
        source=figures.source,
    )


def _measured(spec: ClassifierModelSpec, baseline: BaselineSpec, found: BaselineMeasured) -> BaselineStatus:
    llm = baseline.llm
    assert llm is not None
    m = found.measurement
    price = cost.token_priced(
        m.input_tokens, m.output_tokens, llm.input_usd_per_1m_tokens, llm.output_usd_per_1m_tokens
    )
    return BaselineStatus(
        name=baseline.name,
        kind="llm",
        macro_f1=found.macro_f1,
        p50_ms=found.p50_ms,
        p95_ms=found.p95_ms,
        p99_ms=found.p99_ms,
        cost_per_1m=price,
        utility=_utility(spec, found.macro_f1, found.p50_ms, found.p95_ms, found.p99_ms, price),
        source=_source(baseline),
        measured=m,
    )


MEASURING = "Measuring"


def _waiting(baseline: BaselineSpec, found: Observed | None) -> BaselineStatus:
    if isinstance(found, Failed):
        reason, message = found.reason, found.message
    elif isinstance(found, Running):
        reason, message = MEASURING, (f"measuring ({found.detail})" if found.detail else "measuring")
    else:
        reason, message = MEASURING, "waiting to be measured"
    return BaselineStatus(name=baseline.name, kind="llm", source=_source(baseline), reason=reason, message=message)


def _utility(
    spec: ClassifierModelSpec,
    macro_f1: float | None,
    p50: float | None,
    p95: float | None,
    p99: float | None,
    price: float,
) -> float | None:
    latency = {"p50": p50, "p95": p95, "p99": p99}[spec.promotion.latency_percentile]
    if macro_f1 is None or latency is None or price <= 0:
        return None
    return utility(macro_f1, price, latency, spec.promotion.tau_ms)


def comparison(version: int, metrics: Metrics, baselines: list[BaselineStatus]) -> str:
    """How the served version compares with the best baseline (by utility, else the cheapest): cost ratio and,
    when the baseline has one, the macro-F1 difference in points; empty without a priced baseline."""
    priced = [b for b in baselines if b.cost_per_1m is not None and b.cost_per_1m > 0]
    if not priced:
        return ""
    best = max(priced, key=lambda b: (b.utility is not None, b.utility or 0.0, -(b.cost_per_1m or 0.0)))
    assert best.cost_per_1m is not None
    quality = (
        f" at {100.0 * (metrics.macro_f1 - best.macro_f1):+.1f} macro-F1 points" if best.macro_f1 is not None else ""
    )
    if 0 < metrics.cost_per_1m <= best.cost_per_1m:
        price = f"{best.cost_per_1m / metrics.cost_per_1m:.0f}× cheaper than"
    elif metrics.cost_per_1m > 0:
        price = f"{metrics.cost_per_1m / best.cost_per_1m:.1f}× the cost of"
    else:
        price = "compared with"
    return f"; v{version} is {price} baseline {best.name}{quality}"
