"""Stratified sampling, splitting and balancing: proportions kept, deterministic by seed."""

from __future__ import annotations

import numpy as np
import pytest

from frontier.data import sampling

IMBALANCED = np.array([0] * 60 + [1] * 30 + [2] * 10)


@pytest.mark.parametrize(
    ("n", "expected_counts"), [(50, [30, 15, 5]), (10, [6, 3, 1]), (3, [1, 1, 1]), (1000, [60, 30, 10])]
)
def test_stratified_sample_keeps_class_proportions(n: int, expected_counts: list[int]) -> None:
    rows = sampling.stratified_sample(IMBALANCED, n, seed=1)
    assert len(rows) == min(n, len(IMBALANCED))
    assert np.bincount(IMBALANCED[rows], minlength=3).tolist() == expected_counts


def test_stratified_sample_keeps_a_rare_class_present() -> None:
    labels = np.array([0] * 98 + [1] * 2)
    rows = sampling.stratified_sample(labels, 10, seed=0)
    assert len(rows) == 10
    assert set(labels[rows]) == {0, 1}


def test_stratified_sample_is_deterministic_by_seed_and_sorted() -> None:
    a = sampling.stratified_sample(IMBALANCED, 40, seed=7)
    assert a.tolist() == sampling.stratified_sample(IMBALANCED, 40, seed=7).tolist()
    assert a.tolist() != sampling.stratified_sample(IMBALANCED, 40, seed=8).tolist()
    assert a.tolist() == sorted(a.tolist())
    assert len(set(a.tolist())) == len(a)


def test_stratified_split_holds_out_the_fraction_of_every_class() -> None:
    keep, held = sampling.stratified_split(IMBALANCED, 0.1, seed=3)
    assert np.bincount(IMBALANCED[held], minlength=3).tolist() == [6, 3, 1]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(len(IMBALANCED)))


def test_stratified_split_leaves_every_class_on_both_sides_when_it_can() -> None:
    labels = np.array([0] * 20 + [1] * 2 + [2])
    keep, held = sampling.stratified_split(labels, 0.1, seed=0)
    assert set(labels[held]) == {0, 1}  # class 2 has a single row: it stays in train
    assert set(labels[keep]) == {0, 1, 2}


def test_resample_moves_every_class_to_the_mean_count() -> None:
    rows = sampling.resample_balanced(IMBALANCED, 3, seed=0)
    assert np.bincount(IMBALANCED[rows], minlength=3).tolist() == [33, 33, 33]
    # The small class keeps all its own rows before being topped up with repeats.
    assert set(np.flatnonzero(IMBALANCED == 2)) <= set(rows.tolist())
    assert rows.tolist() == sampling.resample_balanced(IMBALANCED, 3, seed=0).tolist()


def test_class_weights_are_balanced_inverse_frequencies() -> None:
    weights = sampling.class_weights(IMBALANCED, 4)
    assert weights.tolist() == pytest.approx([100 / (4 * 60), 100 / (4 * 30), 100 / (4 * 10), 0.0])
