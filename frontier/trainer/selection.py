"""Checkpoint selection: the score that trades eval macro-F1 against overfitting, and the pick.

score = eval macro-F1 − gapPenalty · max(0, train macro-F1 − eval macro-F1). A checkpoint that fits
the training rows much better than the held-out ones is penalised even when its eval F1 is a touch
higher: it is the one most likely to disappoint on traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


def checkpoint_score(eval_f1: float, train_f1: float, gap_penalty: float) -> float:
    return eval_f1 - gap_penalty * max(0.0, train_f1 - eval_f1)


@dataclass(frozen=True)
class CheckpointRecord:
    """One scored checkpoint, as listed in metrics.json."""

    step: int
    epoch: float
    train_macro_f1: float
    eval_macro_f1: float
    eval_accuracy: float
    train_loss: float
    score: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckpointRecord:
        return cls(**data)


def best_checkpoint(records: Sequence[CheckpointRecord]) -> CheckpointRecord:
    """The highest score; on a tie the earlier checkpoint (fewer steps, less chance of overfitting)."""
    if not records:
        raise ValueError("no checkpoints to choose from")
    return max(records, key=lambda r: (r.score, -r.step))
