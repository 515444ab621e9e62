"""The Pareto front over (max macro-F1, min latency, min cost).

Version a *dominates* b when a is at least as good on every objective and clearly better on one.
Each objective is compared through the interval the benchmark put around it: a is *clearly* better or
worse only when the intervals do not overlap; overlapping intervals are indistinguishable. So a latency
difference that measurement noise can explain never pushes a version off the front (two copies of one
model stay side by side), and with exact numbers (no intervals) this is the textbook definition:
``a.f1 >= b.f1 and a.latency <= b.latency and a.cost <= b.cost`` with one inequality strict.
"""

from __future__ import annotations

from collections.abc import Sequence

from frontier.decision.values import Measured


def _compare(a: tuple[float, float], b: tuple[float, float], higher_is_better: bool) -> int:
    """+1 when ``a`` is clearly better than ``b``, -1 clearly worse, 0 when the intervals overlap."""
    if a[0] > b[1]:
        return 1 if higher_is_better else -1
    if a[1] < b[0]:
        return -1 if higher_is_better else 1
    return 0


def dominates(a: Measured, b: Measured, percentile: str = "p50") -> bool:
    comparisons = (
        _compare(a.f1_interval(), b.f1_interval(), higher_is_better=True),
        _compare(a.latency_interval(percentile), b.latency_interval(percentile), higher_is_better=False),
        _compare(a.cost_interval(), b.cost_interval(), higher_is_better=False),
    )
    return min(comparisons) >= 0 and max(comparisons) > 0


def front(versions: Sequence[Measured], percentile: str = "p50") -> list[Measured]:
    """The non-dominated versions, in their input order."""
    return [v for v in versions if not any(dominates(o, v, percentile) for o in versions if o is not v)]
