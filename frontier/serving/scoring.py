"""Scoring the labels Triton returned: macro-F1, accuracy and agreement with the trainer's predictions.

The definitions are the trainer's (``frontier.data.metrics``: numpy only, every declared label counted,
zero division → 0), so a served version and its training run are scored the same way. A request that
failed, or a label outside the label set, counts as a wrong prediction (an extra "no answer" column of
the confusion matrix that belongs to no class), never as a skipped row: an error cannot raise the score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quality:
    macro_f1: float
    accuracy: float
    agreement: float | None
    scored: int


def indices(values: Sequence[int | str | None], labels: Sequence[str]) -> list[int]:
    """Label names or indices → indices; ``None`` or an unknown label → ``len(labels)`` ("no answer")."""
    position = {label: i for i, label in enumerate(labels)}
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(position.get(value, len(labels)))
        elif value is None or not 0 <= int(value) < len(labels):
            out.append(len(labels))
        else:
            out.append(int(value))
    return out


def score(
    predicted: Sequence[str | int | None],
    gold: Sequence[int | str],
    labels: Sequence[str],
    reference: Sequence[int | str] | None = None,
) -> Quality:
    from frontier.data import metrics

    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} gold labels")
    k = len(labels)
    y_pred = np.array(indices(predicted, labels), dtype=np.int64)
    y_true = np.array(indices(gold, labels), dtype=np.int64)
    if (y_true == k).any():
        raise ValueError("a gold label is not one of the declared labels")
    matrix = metrics.confusion_matrix(y_true, y_pred, k + 1)
    f1 = metrics.per_class(matrix)["f1"][:k]
    agreement = None
    if reference is not None and len(reference) >= len(predicted):
        y_ref = np.array(indices(list(reference)[: len(predicted)], labels), dtype=np.int64)
        agreement = float((y_ref == y_pred).mean()) if len(y_pred) else None
    return Quality(
        macro_f1=float(f1.mean()),
        accuracy=metrics.accuracy(y_true, y_pred),
        agreement=agreement,
        scored=len(y_pred),
    )
