"""The Pareto front over (max macro-F1, min latency, min cost).

Version a *dominates* b when a is at least as good on every objective and strictly better on one:
``a.f1 >= b.f1 and a.latency <= b.latency and a.cost <= b.cost`` with at least one inequality strict.
The front is the set of versions no other version dominates. Equal versions do not dominate each other,
so exact ties all stay on the front.
"""

from __future__ import annotations

from collections.abc import Sequence

from frontier.decision.values import Measured


def dominates(a: Measured, b: Measured, percentile: str = "p50") -> bool:
    at_least_as_good = (
        a.macro_f1 >= b.macro_f1 and a.latency(percentile) <= b.latency(percentile) and a.cost_per_1m <= b.cost_per_1m
    )
    strictly_better = (
        a.macro_f1 > b.macro_f1 or a.latency(percentile) < b.latency(percentile) or a.cost_per_1m < b.cost_per_1m
    )
    return at_least_as_good and strictly_better


def front(versions: Sequence[Measured], percentile: str = "p50") -> list[Measured]:
    """The non-dominated versions, in their input order."""
    return [v for v in versions if not any(dominates(o, v, percentile) for o in versions if o is not v)]
