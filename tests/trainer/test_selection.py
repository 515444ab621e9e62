"""Checkpoint selection: eval macro-F1, penalised by the train–eval gap."""

from __future__ import annotations

import pytest

from frontier.trainer.selection import CheckpointRecord, best_checkpoint, checkpoint_score


@pytest.mark.parametrize(
    ("eval_f1", "train_f1", "penalty", "score"),
    [
        (0.90, 0.90, 1.0, 0.90),  # no gap, no penalty
        (0.90, 0.95, 1.0, 0.85),  # overfitting costs the gap
        (0.90, 0.95, 0.5, 0.875),  # ... scaled by gapPenalty
        (0.90, 0.80, 1.0, 0.90),  # eval better than train is not rewarded
        (0.90, 1.00, 0.0, 0.90),  # gapPenalty 0: plain eval macro-F1
    ],
)
def test_score_is_eval_f1_minus_penalised_gap(eval_f1: float, train_f1: float, penalty: float, score: float) -> None:
    assert checkpoint_score(eval_f1, train_f1, penalty) == pytest.approx(score)


def _record(step: int, eval_f1: float, train_f1: float, penalty: float = 1.0) -> CheckpointRecord:
    return CheckpointRecord(step=step, epoch=step / 10, train_macro_f1=train_f1, eval_macro_f1=eval_f1,
                            eval_accuracy=eval_f1, train_loss=0.1, score=checkpoint_score(eval_f1, train_f1, penalty))


def test_best_checkpoint_prefers_the_smaller_gap_over_a_slightly_higher_eval_f1() -> None:
    steady = _record(10, eval_f1=0.90, train_f1=0.91)
    overfit = _record(20, eval_f1=0.91, train_f1=0.99)
    assert best_checkpoint([steady, overfit]) is steady


def test_best_checkpoint_takes_the_earlier_one_on_a_tie() -> None:
    first, second = _record(10, 0.9, 0.9), _record(20, 0.9, 0.9)
    assert best_checkpoint([second, first]) is first


def test_best_checkpoint_needs_at_least_one() -> None:
    with pytest.raises(ValueError, match="no checkpoints"):
        best_checkpoint([])


def test_records_round_trip_through_json() -> None:
    record = _record(5, 0.8, 0.85)
    assert CheckpointRecord.from_json(record.to_json()) == record
