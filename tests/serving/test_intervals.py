"""Bootstrap intervals and the interference monitor (no Triton)."""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest

from frontier.serving import intervals
from frontier.serving.interference import Monitor


def test_a_latency_interval_covers_the_true_percentile_and_narrows_with_more_requests() -> None:
    rng = np.random.default_rng(1)
    small = [list(rng.lognormal(1.0, 0.2, 30)) for _ in range(4)]
    large = [list(rng.lognormal(1.0, 0.2, 300)) for _ in range(4)]
    true_p50 = float(np.exp(1.0))
    for rounds in (small, large):
        low, high = intervals.percentile(rounds, 50)
        assert low <= true_p50 <= high
    assert np.diff(intervals.percentile(large, 50)) < np.diff(intervals.percentile(small, 50))


def test_drift_between_rounds_widens_the_interval() -> None:
    rng = np.random.default_rng(2)
    steady = [list(rng.normal(10.0, 0.5, 100)) for _ in range(4)]
    drifting = [list(rng.normal(10.0 + 2.0 * i, 0.5, 100)) for i in range(4)]
    assert np.diff(intervals.percentile(drifting, 50)) > 3 * np.diff(intervals.percentile(steady, 50))


def test_a_paired_ratio_cancels_drift_that_moves_both_versions() -> None:
    """Round i slows both versions alike (the machine drifting): each version's own interval is wide, the
    interval of their ratio, resampled over the same rounds, is narrow and covers the true ratio 0.8."""
    rng = np.random.default_rng(4)
    drift = [1.0, 1.15, 0.9, 1.2, 0.85, 1.1]
    reference = [list(d * rng.normal(10.0, 0.3, 60)) for d in drift]
    faster = [list(d * rng.normal(8.0, 0.24, 60)) for d in drift]
    low, high = intervals.paired_ratio(reference, faster, 50)
    assert low <= 0.8 <= high and high - low < 0.03
    alone = [intervals.percentile(rounds, 50) for rounds in (reference, faster)]
    assert alone[1][1] / alone[0][0] - alone[1][0] / alone[0][1] > 5 * (high - low)


def test_two_copies_of_one_model_have_a_ratio_interval_covering_one() -> None:
    rng = np.random.default_rng(5)
    drift = [1.0, 1.2, 0.9, 1.1, 0.8]
    first, second = ([list(d * rng.lognormal(1.0, 0.2, 40)) for d in drift] for _ in range(2))
    low, high = intervals.paired_ratio(first, second, 50)
    assert low < 1.0 < high


def test_a_macro_f1_interval_is_wider_on_a_small_eval_set() -> None:
    rng = np.random.default_rng(3)

    def interval(n: int) -> tuple[float, float]:
        y_true = rng.integers(0, 3, n)
        y_pred = np.where(rng.random(n) < 0.8, y_true, (y_true + 1) % 3)
        return intervals.macro_f1(y_true, y_pred, 3)

    small, large = interval(60), interval(3000)
    assert small[0] < 0.8 < small[1] and large[0] < 0.8 < large[1]
    assert small[1] - small[0] > 3 * (large[1] - large[0])


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_monitor_sees_a_neighbour_burning_a_core() -> None:
    monitor = Monitor()
    before = monitor.sample()
    time.sleep(0.5)
    quiet = Monitor.between(before, monitor.sample())
    neighbour = multiprocessing.get_context("spawn").Process(target=_burn, args=(1.5,))
    neighbour.start()
    try:
        time.sleep(0.3)
        before = monitor.sample()
        time.sleep(1.0)
        busy = Monitor.between(before, monitor.sample())
    finally:
        neighbour.join()
    assert busy.cores > 0.7 and busy.cores > quiet.cores + 0.5, (quiet, busy)


@pytest.mark.parametrize("values", [[5.0], [5.0, 5.0, 5.0]])
def test_a_mean_of_identical_rounds_is_a_point(values: list[float]) -> None:
    assert intervals.mean(values) == (5.0, 5.0)


@pytest.mark.parametrize(
    ("interval", "centre", "expected"),
    [((9.9, 10.1), 10.0, (9.5, 10.5)), ((8.0, 12.0), 10.0, (8.0, 12.0)), ((9.8, 11.0), 10.0, (9.5, 11.0))],
)
def test_an_interval_is_never_narrower_than_the_resolution_asked_for(
    interval: tuple[float, float], centre: float, expected: tuple[float, float]
) -> None:
    assert intervals.at_least(interval, centre, 0.10) == pytest.approx(expected)
