"""Classification metrics in plain numpy: macro-F1, accuracy, balanced accuracy, per-class scores and
the confusion matrix. Written here (not sklearn) so the training image does not need scikit-learn and
the definitions (zero-division → 0, every declared label counted) are ours and tested."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def confusion_matrix(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, num_classes: int) -> npt.NDArray[np.int64]:
    """Rows are true labels, columns predicted labels."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {t.shape} vs {p.shape}")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def _safe_div(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out = np.zeros_like(a, dtype=np.float64)
    np.divide(a, b, out=out, where=b > 0)
    return out


def per_class(matrix: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.float64]]:
    tp = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0).astype(np.float64)
    support = matrix.sum(axis=1).astype(np.float64)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def macro_f1(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, num_classes: int) -> float:
    return float(per_class(confusion_matrix(y_true, y_pred, num_classes))["f1"].mean())


def accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    t = np.asarray(y_true)
    return float((t == np.asarray(y_pred)).mean()) if len(t) else 0.0


def balanced_accuracy(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, num_classes: int) -> float:
    """Mean recall over the classes that occur in ``y_true``."""
    scores = per_class(confusion_matrix(y_true, y_pred, num_classes))
    present = scores["support"] > 0
    return float(scores["recall"][present].mean()) if present.any() else 0.0


def report(y_true: npt.ArrayLike, y_pred: npt.ArrayLike, labels: list[str]) -> dict[str, Any]:
    """Everything metrics.json says about one set of predictions, JSON-ready."""
    k = len(labels)
    matrix = confusion_matrix(y_true, y_pred, k)
    scores = per_class(matrix)
    return {
        "macro_f1": float(scores["f1"].mean()),
        "accuracy": accuracy(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy(y_true, y_pred, k),
        "support": int(matrix.sum()),
        "per_class": {
            label: {
                "precision": float(scores["precision"][i]),
                "recall": float(scores["recall"][i]),
                "f1": float(scores["f1"][i]),
                "support": int(scores["support"][i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {"labels": list(labels), "rows_true_columns_predicted": matrix.tolist()},
    }
