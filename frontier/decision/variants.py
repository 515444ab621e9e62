"""Precision variants against their fp32 parent: the agreement guard and what each variant gained."""

from __future__ import annotations

from collections.abc import Sequence

from frontier.decision.values import Measured


def agreement_verdict(agreement: float, min_agreement: float) -> str | None:
    """None when the variant may compete; otherwise why it is rejected."""
    if agreement < min_agreement:
        return (
            f"predictions agree with the fp32 parent on {agreement:.2%} of the eval set, "
            f"below export.minAgreement {min_agreement:.2%}"
        )
    return None


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def comparisons(versions: Sequence[Measured], generation_of: dict[int, int] | None = None) -> list[str]:
    """One line per reduced-precision version: ΔF1 and latency/cost ratios against its fp32 parent."""
    generation_of = generation_of or {}
    parents = {(v.candidate, generation_of.get(v.version, 0)): v for v in versions if v.precision == "fp32"}
    lines: list[str] = []
    for v in versions:
        parent = parents.get((v.candidate, generation_of.get(v.version, 0)))
        if v.precision == "fp32" or parent is None:
            continue
        lines.append(
            f"{v.candidate} {v.precision} v{v.version} vs fp32 v{parent.version}: "
            f"ΔF1 {v.macro_f1 - parent.macro_f1:+.4f}, p50 ×{_ratio(v.p50_ms, parent.p50_ms):.2f}, "
            f"p95 ×{_ratio(v.p95_ms, parent.p95_ms):.2f}, "
            f"cost ×{_ratio(v.cost_per_1m, parent.cost_per_1m):.2f}" + ("" if v.eligible else f" — rejected: {v.note}")
        )
    return lines
