"""Deterministic stratified sampling, splitting and class balancing over integer label arrays.

Pure numpy on label indices (never on texts) so that every shaping step of the data is unit-testable
and reproducible from the seed alone: the same manifest always trains on the same rows.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int64]
Labels = npt.NDArray[np.int64]


def _allocate(counts: npt.NDArray[np.int64], total: int) -> npt.NDArray[np.int64]:
    """Split ``total`` over classes in proportion to ``counts`` (largest remainder), every present
    class keeping at least one row when ``total`` allows it."""
    present = counts > 0
    if total >= int(counts.sum()):
        return np.array(counts, dtype=np.int64)
    exact = counts * (total / counts.sum())
    take = np.floor(exact).astype(np.int64)
    if total >= int(present.sum()):
        take = np.where(present & (take == 0), 1, take)
    # Hand out (or take back) the rounding difference by largest remainder, stably by class index.
    remainder = exact - np.floor(exact)
    order = np.argsort(-remainder, kind="stable")
    diff = total - int(take.sum())
    i = 0
    while diff != 0:
        c = order[i % len(order)]
        if diff > 0 and take[c] < counts[c]:
            take[c] += 1
            diff -= 1
        elif diff < 0 and take[c] > 1:
            take[c] -= 1
            diff += 1
        i += 1
    return np.asarray(take, dtype=np.int64)


def stratified_sample(labels: Labels, n: int, seed: int) -> Indices:
    """At most ``n`` row indices with the class proportions of ``labels``; sorted, deterministic."""
    labels = np.asarray(labels, dtype=np.int64)
    if n >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes = np.arange(int(labels.max()) + 1 if len(labels) else 0)
    counts = np.array([(labels == c).sum() for c in classes], dtype=np.int64)
    take = _allocate(counts, n)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[: take[c]] for c in classes]
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.arange(0, dtype=np.int64)


def stratified_split(labels: Labels, fraction: float, seed: int) -> tuple[Indices, Indices]:
    """(train, held-out) indices: about ``fraction`` of every class held out, but a class with at
    least two rows always keeps one on each side."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    held: list[Indices] = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        k = round(fraction * len(rows))
        if len(rows) >= 2:
            k = min(max(k, 1), len(rows) - 1)
        else:
            k = 0
        held.append(rows[:k])
    out = np.sort(np.concatenate(held)) if held else np.arange(0, dtype=np.int64)
    keep = np.setdiff1d(np.arange(len(labels)), out)
    return keep.astype(np.int64), out.astype(np.int64)


def resample_balanced(labels: Labels, num_classes: int, seed: int) -> Indices:
    """Row indices with every class moved to the mean class count: larger classes are down-sampled
    without replacement, smaller ones keep all rows and are topped up by sampling with replacement."""
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    counts = np.bincount(labels, minlength=num_classes)
    present = [c for c in range(num_classes) if counts[c] > 0]
    target = max(1, round(float(counts[present].mean()))) if present else 0
    chosen: list[Indices] = []
    for c in present:
        rows = np.flatnonzero(labels == c)
        if len(rows) >= target:
            chosen.append(rng.permutation(rows)[:target])
        else:
            extra = rng.choice(rows, size=target - len(rows), replace=True)
            chosen.append(np.concatenate([rows, extra]))
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.arange(0, dtype=np.int64)


def class_weights(labels: Labels, num_classes: int) -> npt.NDArray[np.float64]:
    """ "Balanced" weights N / (K · n_c) for a weighted cross-entropy; 0 for an absent class."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    weights = np.zeros(num_classes, dtype=np.float64)
    nonzero = counts > 0
    weights[nonzero] = counts.sum() / (num_classes * counts[nonzero])
    return weights
