"""Which guardrails a version breaks, each as a sentence with the numbers."""

from __future__ import annotations

from frontier.decision.values import Guardrails, Measured


def failures(version: Measured, limits: Guardrails) -> list[str]:
    broken: list[str] = []
    if limits.min_macro_f1 is not None and version.macro_f1 < limits.min_macro_f1:
        broken.append(f"macro-F1 {version.macro_f1:.4f} < minMacroF1 {limits.min_macro_f1:.4f}")
    if limits.max_p95_ms is not None and version.p95_ms > limits.max_p95_ms:
        broken.append(f"p95 {version.p95_ms:.1f} ms > maxP95Ms {limits.max_p95_ms:.1f}")
    if limits.max_cost_per_1m is not None and version.cost_per_1m > limits.max_cost_per_1m:
        broken.append(f"cost ${version.cost_per_1m:.2f}/1M > maxCostPer1M ${limits.max_cost_per_1m:.2f}")
    return broken


def passes(version: Measured, limits: Guardrails) -> bool:
    return not failures(version, limits)
