"""The training loop's parts, without a pretrained model: the state, the stop decision, the schedule,
and the whole loop on a toy bag-of-embeddings classifier (stops, resume, time budget)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from frontier.trainer import checkpoint
from frontier.trainer.batching import Encoded
from frontier.trainer.compute import ComputePrecision, PrecisionChoice
from frontier.trainer.loop import (
    LoopConfig,
    LoopResult,
    Splits,
    Stop,
    StopReason,
    TrainingInterrupted,
    TrainState,
    should_stop,
    train,
)
from frontier.trainer.runtime import Runtime
from frontier.trainer.selection import CheckpointRecord, checkpoint_score

pytestmark = pytest.mark.ml  # imports torch; trains nothing pretrained


def _config(tmp_path: Path, **changes: Any) -> LoopConfig:
    config = LoopConfig(
        epochs=2,
        learning_rate=0.05,
        batch_size=4,
        warmup_ratio=0.2,
        weight_decay=0.01,
        seed=7,
        gap_penalty=1.0,
        eval_steps=0,
        accumulation=2,
        fingerprint="toy",
        checkpoint_dir=tmp_path / "ckpt",
        compute_precision="fp32",  # runs compared step for step must not depend on a timing probe
    )
    return replace(config, **changes)


def _record(step: int, eval_f1: float, train_f1: float) -> CheckpointRecord:
    return CheckpointRecord(step=step, epoch=step / 10, train_macro_f1=train_f1, eval_macro_f1=eval_f1,
                            eval_accuracy=eval_f1, train_loss=0.5, score=checkpoint_score(eval_f1, train_f1, 1.0))


# should_stop ---------------------------------------------------------------------------------------------------


def test_nothing_reached_means_go_on(tmp_path: Path) -> None:
    config = _config(tmp_path, stop_after_steps=10, time_budget_s=60.0)
    assert should_stop(TrainState(step=9), config, elapsed=59.9) is None


def test_the_step_limit_interrupts(tmp_path: Path) -> None:
    stop = should_stop(TrainState(step=3), _config(tmp_path, stop_after_steps=3), elapsed=0.0)
    assert stop == Stop(StopReason.STEP_LIMIT, "stopped after 3 steps (--stop-after-steps)")
    assert stop.reason.interrupts


def test_a_preemption_request_interrupts(tmp_path: Path) -> None:
    stop = should_stop(TrainState(step=5), _config(tmp_path, preempt_requested=lambda: True), elapsed=0.0)
    assert stop == Stop(StopReason.PREEMPTED, "stopped at step 5 on a termination signal")
    assert stop.reason.interrupts


def test_the_time_budget_ends_training_without_interrupting(tmp_path: Path) -> None:
    stop = should_stop(TrainState(step=12), _config(tmp_path, time_budget_s=30.0), elapsed=30.0)
    assert stop == Stop(StopReason.TIME_BUDGET, "time budget of 30s reached at step 12")
    assert not stop.reason.interrupts


def test_an_interruption_wins_over_the_budget_and_the_step_limit_over_a_signal(tmp_path: Path) -> None:
    everything = _config(tmp_path, stop_after_steps=1, time_budget_s=0.0, preempt_requested=lambda: True)
    assert should_stop(TrainState(step=1), everything, 1.0) == Stop(
        StopReason.STEP_LIMIT, "stopped after 1 steps (--stop-after-steps)"
    )
    signal_and_budget = replace(everything, stop_after_steps=None)
    stop = should_stop(TrainState(step=1), signal_and_budget, 1.0)
    assert stop is not None and stop.reason is StopReason.PREEMPTED


def test_stop_reasons_are_strings_for_logs_and_only_completion_and_budget_finish() -> None:
    assert StopReason.TIME_BUDGET == "time budget" and f"{StopReason.PREEMPTED}" == "preempted"
    assert {r for r in StopReason if not r.interrupts} == {StopReason.COMPLETED, StopReason.TIME_BUDGET}


# TrainState ----------------------------------------------------------------------------------------------------


def test_the_state_tracks_loss_throughput_and_the_gap_penalised_best() -> None:
    state = TrainState(seen=300, scoring_seconds=4.0, loss_sum=3.0, loss_batches=4)
    assert state.train_loss == pytest.approx(0.75)
    assert state.samples_per_second(elapsed=10.0) == pytest.approx(50.0)  # scoring time left out
    assert TrainState().train_loss == 0.0 and TrainState().best is None
    steady, overfit = _record(10, 0.90, 0.91), _record(20, 0.91, 0.99)
    assert replace(state, history=[steady, overfit]).best is steady


def test_the_state_round_trips_through_a_checkpoint_and_notes_the_resume() -> None:
    best = {"head.weight": torch.ones(2, 2)}
    state = TrainState(step=7, epoch=1, done_in_epoch=2, history=[_record(5, 0.8, 0.8)], best_state=best)
    saved = state.checkpoint_fields()
    assert saved["best_score"] == pytest.approx(0.8)
    resumed = TrainState.from_checkpoint(saved)
    assert (resumed.step, resumed.epoch, resumed.done_in_epoch) == (7, 1, 2)
    assert resumed.history == state.history and resumed.best_state is best
    assert resumed.resumed_from_step == 7
    assert resumed.log == ["resumed from step 7 (epoch 2, 2 batches done)"]
    assert TrainState().checkpoint_fields()["best_score"] is None


def test_only_an_early_stop_is_reported_as_one() -> None:
    record = _record(1, 0.5, 0.5)
    fp32 = PrecisionChoice(ComputePrecision.FP32, "computePrecision: fp32")
    done = LoopResult([record], record, {}, 1, 1.0, 1.0, None, Stop(StopReason.COMPLETED, "completed 1 epoch(s)"), fp32)
    budget = replace(done, stop=Stop(StopReason.TIME_BUDGET, "time budget of 5s reached at step 1"))
    assert done.stopped_early is None
    assert budget.stopped_early == "time budget of 5s reached at step 1"


# The whole loop on a toy model ---------------------------------------------------------------------------------

VOCAB, LABELS = 12, ["a", "b", "c"]


class Toy(torch.nn.Module):
    """Mean of token embeddings → linear head; ``config.num_labels`` and ``.logits`` as transformers has."""

    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(num_labels=len(LABELS))
        self.embed = torch.nn.Embedding(VOCAB, 8)
        self.head = torch.nn.Linear(8, len(LABELS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        mask = attention_mask.unsqueeze(-1).float()
        pooled = (self.embed(input_ids) * mask).sum(1) / mask.sum(1)
        return SimpleNamespace(logits=self.head(pooled))


def _toy() -> Toy:
    torch.manual_seed(0)
    return Toy()


def _splits(rows: int = 40) -> Splits:
    rng = np.random.default_rng(0)
    labels = np.arange(rows, dtype=np.int64) % len(LABELS)
    ids = [[1 + int(y), *rng.integers(4, VOCAB, size=int(rng.integers(1, 6))).tolist()] for y in labels]
    encoded = Encoded(ids, None, 0)
    return Splits(encoded, labels, encoded, labels, encoded, labels)


CPU = Runtime(torch.device("cpu"))


def test_the_toy_loop_scores_every_epoch_and_every_eval_steps(tmp_path: Path) -> None:
    # 40 rows, batches of 4, accumulation 2: 5 optimizer steps per epoch (the last takes the 10th batch).
    result = train(_toy(), _splits(), LABELS, _config(tmp_path, eval_steps=2), CPU)
    assert [r.step for r in result.history] == [2, 4, 5, 6, 8, 10]
    assert result.steps == 10 and result.stop.reason is StopReason.COMPLETED and result.stopped_early is None
    assert result.best.eval_macro_f1 > 0.5  # the first token carries the label
    assert (tmp_path / "ckpt" / checkpoint.LAST).is_file()


def test_an_interrupted_toy_run_resumes_exactly_where_it_stopped(tmp_path: Path) -> None:
    straight = train(_toy(), _splits(), LABELS, _config(tmp_path / "straight"), CPU)
    config = _config(tmp_path / "interrupted", stop_after_steps=3)
    with pytest.raises(TrainingInterrupted, match=r"stopped after 3 steps .*resume with --resume"):
        train(_toy(), _splits(), LABELS, config, CPU)
    resumed = train(_toy(), _splits(), LABELS, replace(config, stop_after_steps=None, resume=True), CPU)
    assert resumed.resumed_from_step == 3 and resumed.log == ["resumed from step 3 (epoch 1, 6 batches done)"]
    assert [(r.step, r.eval_macro_f1, r.train_macro_f1) for r in resumed.history] == [
        (r.step, r.eval_macro_f1, r.train_macro_f1) for r in straight.history
    ]
    assert all(torch.equal(resumed.best_state[n], straight.best_state[n]) for n in straight.best_state)


def test_a_toy_run_trains_in_bf16_when_asked_and_its_resume_keeps_the_checkpoints_format(tmp_path: Path) -> None:
    config = _config(tmp_path, compute_precision="bf16", stop_after_steps=3)
    with pytest.raises(TrainingInterrupted):
        train(_toy(), _splits(), LABELS, config, CPU)
    # The spec now says fp32, but the run it resumes trained in bf16: switching halfway would make a third model.
    resumed = train(_toy(), _splits(), LABELS, replace(config, stop_after_steps=None, resume=True,
                                                         compute_precision="fp32"), CPU)
    assert resumed.compute == PrecisionChoice(ComputePrecision.BF16, "computePrecision: bf16")
    assert resumed.best.eval_macro_f1 > 0.5


def test_auto_measures_bf16_against_fp32_on_a_cpu_with_bf16_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontier.trainer import compute

    monkeypatch.setattr(compute, "cpu_bf16_flags", lambda: ["avx512_bf16"])
    result = train(_toy(), _splits(), LABELS, _config(tmp_path, compute_precision="auto"), CPU)
    assert result.compute.fp32_step_s is not None and result.compute.bf16_step_s is not None
    assert result.compute.reason.startswith("CPU with avx512_bf16: bf16 measured ")
    saved = checkpoint.load(tmp_path / "ckpt", "toy")
    assert saved is not None and saved["compute"] == result.compute.to_json()


def test_a_preempted_toy_run_checkpoints_unscored(tmp_path: Path) -> None:
    config = _config(tmp_path, preempt_requested=lambda: True)
    with pytest.raises(TrainingInterrupted, match="stopped at step 1 on a termination signal"):
        train(_toy(), _splits(), LABELS, config, CPU)
    saved = checkpoint.load(config.checkpoint_dir, config.fingerprint)
    assert saved is not None and saved["step"] == 1 and saved["history"] == []


def test_a_budgeted_toy_run_fills_its_budget_and_its_schedule_ends_where_it_stops(tmp_path: Path) -> None:
    config = _config(tmp_path, epochs=1000, time_budget_s=3.0)
    result = train(_toy(), _splits(), LABELS, config, CPU)
    assert result.stop.reason is StopReason.TIME_BUDGET
    assert result.stop.message == f"trained the {result.steps} steps planned to fill the 3s time budget"
    assert 0.8 * 3.0 <= result.train_seconds <= 3.0 * 1.1  # the last scoring included
    assert len(result.history) == 5 and result.history[-1].step == result.steps  # evenly spread, last at the end
    saved = checkpoint.load(config.checkpoint_dir, config.fingerprint)
    assert saved is not None and saved["scheduler"]["lr_lambdas"][0]["total_steps"] == result.steps
    assert saved["scheduler"]["_last_lr"] == [pytest.approx(0.0), pytest.approx(0.0)]  # decayed to zero there


def test_the_time_budget_exports_the_best_checkpoint_so_far(tmp_path: Path) -> None:
    result = train(_toy(), _splits(), LABELS, _config(tmp_path, time_budget_s=0.0), CPU)
    assert result.stop == Stop(StopReason.TIME_BUDGET, "time budget of 0s reached at step 1")
    assert result.stopped_early == "time budget of 0s reached at step 1"
    assert [r.step for r in result.history] == [1] and result.steps == 1


def test_a_scorings_cost_is_counted_in_padded_tokens_as_it_batches_them() -> None:
    from frontier.trainer.loop import padded_tokens

    short_and_long = Encoded([[1] * n for n in (3, 5, 10)], None, 0)
    assert padded_tokens(short_and_long) == 3 * 10  # one batch, padded to its longest row
    many = Encoded([[1] * 4] * 130, None, 0)
    assert padded_tokens(many) == 130 * 4  # 64 + 64 + 2 rows of 4 tokens: no padding
    mixed = Encoded([[1] * (2 if i % 2 else 8) for i in range(128)], None, 0)
    assert padded_tokens(mixed) == 64 * 2 + 64 * 8  # sorted by length first: short rows batch together


def test_every_rank_takes_rank_0s_whole_plan(tmp_path: Path) -> None:
    import torch.distributed

    from frontier.trainer.budget import BudgetPlan
    from frontier.trainer.loop import agreed

    plan = BudgetPlan(total_steps=163, scoring_steps=(163,), capped_by_epochs=False, scoring_s=73.5, replan_step=24)
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1)
    try:
        assert agreed(plan) == plan  # total, scoring steps, replan step and the last scoring's seconds
    finally:
        torch.distributed.destroy_process_group()
