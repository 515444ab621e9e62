"""Baselines on the versions' front (``spec.baselines``): priced, scored with the same utility, compared in
the decision's words, never served. Pure.

A declared baseline's cost is its ``costPer1M``, or its mean tokens per request times the provider's token
prices (``cost.token_priced``): the paper's GPT-4o rows come out of their inputs through the same formula a
measured LLM baseline will use.
"""

from __future__ import annotations

from frontier.api.spec import BaselineSpec, ClassifierModelSpec
from frontier.api.status import BaselineStatus, Metrics
from frontier.decision import cost
from frontier.decision.utility import utility


def declared_cost(baseline: BaselineSpec) -> float:
    figures = baseline.declared
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


def shown(spec: ClassifierModelSpec) -> list[BaselineStatus]:
    """``status.baselines``: every baseline priced, with its utility under the spec's τ and percentile."""
    tau_ms = spec.promotion.tau_ms
    percentile = spec.promotion.latency_percentile
    out = []
    for baseline in spec.baselines:
        figures = baseline.declared
        price = declared_cost(baseline)
        latency = {"p50": figures.p50_ms, "p95": figures.p95_ms}.get(percentile)
        out.append(
            BaselineStatus(
                name=baseline.name,
                macro_f1=figures.macro_f1,
                p50_ms=figures.p50_ms,
                p95_ms=figures.p95_ms,
                cost_per_1m=price,
                utility=None
                if latency is None or figures.macro_f1 is None
                else utility(figures.macro_f1, price, latency, tau_ms),
                source=figures.source,
            )
        )
    return out


def comparison(version: int, metrics: Metrics, baselines: list[BaselineStatus]) -> str:
    """How the served version compares with the best baseline (by utility, else the cheapest): cost ratio and,
    when the baseline declares one, the macro-F1 difference in points; empty without baselines."""
    if not baselines:
        return ""
    best = max(baselines, key=lambda b: (b.utility is not None, b.utility or 0.0, -b.cost_per_1m))
    quality = (
        f" at {100.0 * (metrics.macro_f1 - best.macro_f1):+.1f} macro-F1 points" if best.macro_f1 is not None else ""
    )
    if metrics.cost_per_1m > 0 and metrics.cost_per_1m <= best.cost_per_1m:
        price = f"{best.cost_per_1m / metrics.cost_per_1m:.0f}× cheaper than"
    elif metrics.cost_per_1m > 0:
        price = f"{metrics.cost_per_1m / best.cost_per_1m:.1f}× the cost of"
    else:
        price = "compared with"
    return f"; v{version} is {price} baseline {best.name}{quality}"
