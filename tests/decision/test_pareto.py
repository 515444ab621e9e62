"""Dominance over (max F1, min latency, min cost) and the Pareto front."""

from __future__ import annotations

import pytest

from frontier.decision import pareto
from frontier.decision.values import Measured


def v(n: int, f1: float, p50: float, cost: float, p95: float | None = None) -> Measured:
    return Measured(n, f"c{n}", f1, p50, p95 if p95 is not None else p50 * 1.5, p50 * 2, cost)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (v(1, 0.9, 10, 1.0), v(2, 0.8, 20, 2.0), True),  # better everywhere
        (v(1, 0.9, 10, 1.0), v(2, 0.9, 10, 2.0), True),  # equal but cheaper
        (v(1, 0.9, 10, 1.0), v(2, 0.9, 10, 1.0), False),  # identical: neither dominates
        (v(1, 0.9, 30, 1.0), v(2, 0.8, 20, 2.0), False),  # slower: a trade-off
        (v(1, 0.8, 10, 1.0), v(2, 0.9, 20, 2.0), False),  # less accurate: a trade-off
    ],
)
def test_dominance_needs_no_worse_everywhere_and_better_somewhere(a, b, expected):
    assert pareto.dominates(a, b) is expected


def test_the_front_keeps_trade_offs_and_drops_dominated_versions():
    accurate, fast, cheap = v(1, 0.95, 40, 3.0), v(2, 0.90, 10, 2.0), v(3, 0.88, 12, 0.5)
    dominated = v(4, 0.87, 50, 4.0)
    assert pareto.front([accurate, fast, cheap, dominated]) == [accurate, fast, cheap]


def test_identical_versions_both_stay_on_the_front():
    a, b = v(1, 0.9, 10, 1.0), v(2, 0.9, 10, 1.0)
    assert pareto.front([a, b]) == [a, b]


def test_the_latency_axis_is_the_declared_percentile():
    a = v(1, 0.9, 10, 1.0, p95=100)
    b = v(2, 0.9, 12, 1.0, p95=20)
    assert pareto.front([a, b], "p50") == [a]
    assert pareto.front([a, b], "p95") == [b]


def test_an_empty_pool_has_an_empty_front():
    assert pareto.front([]) == []
