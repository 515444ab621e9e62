"""Scoring served labels and choosing the level that prices a version."""

from __future__ import annotations

import pytest

from frontier.api.spec import Pricing
from frontier.decision import cost
from frontier.serving.benchmark import LevelResult, capacity_level, price
from frontier.serving.scoring import score

LABELS = ["a", "b", "c"]


def level(concurrency: int, p50: float, p95: float, rps: float) -> LevelResult:
    return LevelResult(concurrency, 100, 0, p50, p95, p95, rps, 1.0, 0.1)


def test_served_labels_are_scored_with_macro_f1_accuracy_and_agreement() -> None:
    quality = score(["a", "b", "c", "a"], [0, 1, 2, 1], LABELS, reference=[0, 1, 2, 0])
    assert quality.accuracy == 0.75
    assert quality.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1.0) / 3)
    assert quality.agreement == 1.0
    assert quality.scored == 4


def test_a_failed_request_counts_as_a_wrong_answer() -> None:
    perfect = score(["a", "b", "c"], [0, 1, 2], LABELS)
    with_failure = score(["a", None, "c"], [0, 1, 2], LABELS)
    assert perfect.macro_f1 == 1.0
    assert with_failure.accuracy == pytest.approx(2 / 3)
    assert with_failure.macro_f1 < 1.0


def test_the_capacity_is_the_best_throughput_within_the_p95_guardrail() -> None:
    levels = [level(1, 10, 12, 90), level(8, 40, 60, 300), level(32, 150, 250, 320)]
    assert capacity_level(levels, None).concurrency == 32
    assert capacity_level(levels, 100).concurrency == 8
    assert capacity_level(levels, 1).concurrency == 32  # none meets it: the best throughput


def test_occupancy_prices_p50_at_the_lowest_concurrency_and_dedicated_prices_capacity() -> None:
    levels = [level(1, 10, 12, 90), level(8, 40, 60, 300)]
    occupancy, at = price(levels, Pricing(), None)
    assert at.concurrency == 1
    assert occupancy == pytest.approx(cost.occupancy(10, cost.CLOUD_RUN_2CPU_2GIB))
    assert occupancy == pytest.approx(0.53, rel=0.01)  # the paper's 0.053 · p50_ms
    dedicated, at = price(levels, Pricing(cost_model="dedicated"), 100)
    assert at.concurrency == 8
    assert dedicated == pytest.approx(cost.dedicated(300, cost.CLOUD_RUN_2CPU_2GIB))


def test_the_serving_package_never_imports_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, frontier.serving.local, frontier.serving.entry, frontier.serving.benchmark;"
        "import frontier.serving.scoring, frontier.serving.configs;"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
