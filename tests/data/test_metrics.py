"""The numpy metrics agree with their definitions and with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from frontier.data import metrics

CASES = [
    # (y_true, y_pred, num_classes)
    ([0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2], 3),
    ([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 0, 2], 3),
    ([0, 0, 0, 0, 1], [0, 0, 0, 0, 0], 2),  # a class never predicted: its precision is 0, not NaN
    ([0, 1, 1, 0], [0, 1, 1, 0], 3),  # a declared class with no support at all
    ([2, 2, 1, 0, 3, 3, 1], [2, 1, 1, 0, 3, 0, 1], 4),
]


@pytest.mark.parametrize(("y_true", "y_pred", "k"), CASES)
def test_metrics_match_scikit_learn(y_true: list[int], y_pred: list[int], k: int) -> None:
    sk = pytest.importorskip("sklearn.metrics")
    labels = list(range(k))
    assert metrics.macro_f1(y_true, y_pred, k) == pytest.approx(
        sk.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    )
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    present = sorted(set(y_true))
    recalls = sk.recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    assert metrics.balanced_accuracy(y_true, y_pred, k) == pytest.approx(float(np.mean(recalls)))
    assert (
        metrics.confusion_matrix(y_true, y_pred, k).tolist()
        == sk.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    )


def test_confusion_matrix_rows_are_true_labels_and_columns_predictions() -> None:
    matrix = metrics.confusion_matrix([0, 0, 1], [1, 1, 1], 2)
    assert matrix.tolist() == [[0, 2], [0, 1]]


def test_report_lists_every_declared_label_with_its_scores() -> None:
    report = metrics.report([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    assert list(report["per_class"]) == ["a", "b", "c"]
    assert report["per_class"]["b"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert report["support"] == 4
    assert report["accuracy"] == 0.75
    assert report["confusion_matrix"]["rows_true_columns_predicted"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]


def test_mismatched_prediction_length_is_an_error() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.confusion_matrix([0, 1], [0], 2)
