"""Bootstrap intervals for what a benchmark measures. numpy only.

- Latency percentiles: a two-level bootstrap — resample the *rounds* (drift and neighbours move whole
  rounds), then the requests inside each resampled round — so an interval covers what another round on
  the same machine would likely have measured, not only the sampling noise of one run.
- A version's latency relative to another's measured in the same rounds: the same two-level bootstrap,
  the rounds resampled *together* (paired), so drift that moves both (between runs minutes apart the
  whole machine drifts by ±10 %) cancels, and the interval describes the comparison a decision makes.
- Throughput: a bootstrap over the rounds' own throughputs.
- Macro-F1: a bootstrap over the scored rows: the eval set's size sets how sure an F1 difference is.

Intervals are percentile intervals at ``LEVEL`` (90 %), with a fixed seed: the same measurement gives
the same interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.int64]

LEVEL = 0.90
RESAMPLES = 400
SEED = 20260211


def _bounds(samples: npt.NDArray[np.float64]) -> tuple[float, float]:
    tail = (1.0 - LEVEL) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return float(low), float(high)


def percentile(rounds: Sequence[Sequence[float]], q: float, resamples: int = RESAMPLES) -> tuple[float, float]:
    """The interval of the ``q``-th latency percentile over ``rounds`` (each a list of request latencies)."""
    arrays = [np.asarray(r, dtype=np.float64) for r in rounds if len(r)]
    if not arrays:
        return (0.0, 0.0)
    rng = np.random.default_rng(SEED)
    estimates = np.empty(resamples)
    for i in range(resamples):
        picked = rng.integers(0, len(arrays), size=len(arrays))
        pooled = np.concatenate([arrays[j][rng.integers(0, len(arrays[j]), size=len(arrays[j]))] for j in picked])
        estimates[i] = np.percentile(pooled, q)
    return _bounds(estimates)


def paired_ratio(
    reference: Sequence[Sequence[float]], other: Sequence[Sequence[float]], q: float, resamples: int = RESAMPLES
) -> tuple[float, float]:
    """The interval of ``other``'s ``q``-th latency percentile over ``reference``'s, where round ``i`` of
    each was measured in the same interleaved round ``i``."""
    pairs = [
        (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        for a, b in zip(reference, other, strict=True)
        if len(a) and len(b)
    ]
    if not pairs:
        return (0.0, 0.0)
    rng = np.random.default_rng(SEED)
    estimates = np.empty(resamples)
    for i in range(resamples):
        picked = rng.integers(0, len(pairs), size=len(pairs))
        pooled = [
            np.concatenate(
                [pairs[j][side][rng.integers(0, len(pairs[j][side]), size=len(pairs[j][side]))] for j in picked]
            )
            for side in (0, 1)
        ]
        estimates[i] = np.percentile(pooled[1], q) / np.percentile(pooled[0], q)
    return _bounds(estimates)


def mean(values: Sequence[float], resamples: int = RESAMPLES) -> tuple[float, float]:
    """The interval of the mean of ``values`` (e.g. the rounds' throughputs)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return (0.0, 0.0)
    if array.size == 1:
        return (float(array[0]), float(array[0]))
    rng = np.random.default_rng(SEED)
    estimates = array[rng.integers(0, array.size, size=(resamples, array.size))].mean(axis=1)
    return _bounds(estimates)


def macro_f1(y_true: Array, y_pred: Array, num_labels: int, resamples: int = RESAMPLES) -> tuple[float, float]:
    """The interval of macro-F1 over ``num_labels`` classes (a prediction ``== num_labels`` is "no
    answer"), by resampling rows."""
    n = len(y_true)
    if n == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(SEED)
    width = num_labels + 1
    estimates = np.empty(resamples)
    for i in range(resamples):
        rows = rng.integers(0, n, size=n)
        matrix = np.bincount(y_true[rows] * width + y_pred[rows], minlength=width * width).reshape(width, width)
        tp = np.diag(matrix)[:num_labels].astype(np.float64)
        predicted = matrix[:, :num_labels].sum(axis=0)
        actual = matrix[:num_labels, :].sum(axis=1)
        denominator = predicted + actual
        f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        estimates[i] = f1.mean()
    return _bounds(estimates)


def relative_width(interval: tuple[float, float], centre: float) -> float:
    return (interval[1] - interval[0]) / centre if centre > 0 else float("inf")


def at_least(interval: tuple[float, float], centre: float, width: float) -> tuple[float, float]:
    """``interval``, widened around ``centre`` to at least ``width`` of it: the resolution a measurement
    claims (differences inside it are not told apart)."""
    half = centre * width / 2.0
    return (min(interval[0], centre - half), max(interval[1], centre + half))
