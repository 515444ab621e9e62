"""The fine-tuning loop: AdamW with linear warm-up and decay, gradient accumulation, length-grouped
batches, periodic scoring of checkpoints, and checkpoints a preempted Job resumes from.

It reads top to bottom as ``train`` below: set up (``prepare``), restore or start a ``TrainState``,
then per epoch ``step`` (one optimizer step), ``evaluate`` every ``evalSteps`` steps and at the end of
the epoch, and ``should_stop`` after every step. A stop is a ``StopReason``: a time budget ends training
like the last epoch does; a preemption or ``--stop-after-steps`` saves the checkpoint and raises
``TrainingInterrupted``.

With a time budget (``hyperparameters.timeBudget`` or ``--time-budget``) the run is planned to fill it
(``budget.py``): after a few steps, and again after every scoring, the measured pace sets how many steps
fit, the learning-rate schedule ends there, and checkpoints are scored at evenly spread steps, the last
one inside the budget.

Checkpoints are scored (train-probe and eval macro-F1, see ``selection.py``) once per epoch, or every
``evalSteps`` optimizer steps; each scoring also writes the resumable checkpoint. The loop keeps the
best-scoring weights and hands them back; it never looks at the eval labels for anything but scoring.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import torch

from frontier.data import metrics
from frontier.data.sampling import Labels
from frontier.errors import TrainingError
from frontier.trainer import budget, checkpoint, compute
from frontier.trainer.batching import Encoded, collate, inference_batches, length_grouped_batches
from frontier.trainer.evaluation import EVAL_BATCH, torch_logits
from frontier.trainer.runtime import Runtime
from frontier.trainer.selection import CheckpointRecord, best_checkpoint, checkpoint_score

PROGRESS_EVERY_S = 5.0
NOT_CHOSEN = compute.PrecisionChoice(compute.ComputePrecision.FP32, "not chosen yet")


class TrainingInterrupted(TrainingError):
    """Training stopped on purpose (preemption signal or --stop-after-steps) after a checkpoint."""


class StopReason(StrEnum):
    """Why training ended."""

    COMPLETED = "completed"
    """Every epoch ran."""
    TIME_BUDGET = "time budget"
    """The steps planned to fill the time budget are done (or it ran out): the best checkpoint is exported."""
    PREEMPTED = "preempted"
    """A termination signal (Kubernetes preemption): checkpoint, exit 1, resume on retry."""
    STEP_LIMIT = "step limit"
    """``--stop-after-steps`` (tests of preemption): as PREEMPTED."""

    @property
    def interrupts(self) -> bool:
        """The run stops without an artifact, after a checkpoint it resumes from."""
        return self in (StopReason.PREEMPTED, StopReason.STEP_LIMIT)


@dataclass(frozen=True)
class Stop:
    reason: StopReason
    message: str
    """For people: the log, the model card and metrics.json's ``training.stopped_early``."""


@dataclass
class LoopConfig:
    epochs: int
    learning_rate: float
    batch_size: int
    warmup_ratio: float
    weight_decay: float
    seed: int
    gap_penalty: float
    eval_steps: int
    accumulation: int
    fingerprint: str
    checkpoint_dir: Path
    resume: bool = False
    class_weights: list[float] | None = None
    stop_after_steps: int | None = None
    time_budget_s: float | None = None
    compute_precision: str = "auto"
    """``hyperparameters.computePrecision``: auto, fp32 or bf16 (``compute.choose``)."""
    preempt_requested: Callable[[], bool] = lambda: False
    """Polled after every step; True (e.g. after SIGTERM) checkpoints and raises TrainingInterrupted."""


@dataclass
class Splits:
    train: Encoded
    train_labels: Labels
    probe: Encoded
    """A stratified subsample of train, scored at every checkpoint to measure the train–eval gap."""
    probe_labels: Labels
    eval: Encoded
    eval_labels: Labels


@dataclass
class TrainState:
    """Where training is. The position, history and best weights go into the checkpoint; the counters
    below them belong to this process (a resumed run starts them afresh)."""

    step: int = 0
    """Optimizer steps taken."""
    spent_before: float = 0.0
    """Seconds of the time budget the run spent before it was resumed."""
    scorings: int = 0
    """Checkpoint scorings made (every rank counts them: a budgeted run plans with the number)."""
    scorings_at_start: int = 0
    """Scorings made before this process resumed the run (their time is not in ``scoring_seconds``)."""
    epoch: int = 0
    done_in_epoch: int = 0
    """Batches of ``epoch`` already trained on."""
    history: list[CheckpointRecord] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    """The trainable weights of the best-scoring checkpoint so far."""
    resumed_from_step: int | None = None
    compute: compute.PrecisionChoice | None = None
    """The format the run trains in: measured once, kept by the checkpoint so a resumed run does not switch."""
    log: list[str] = field(default_factory=list)
    """Notes for the model card (a resume)."""
    started: float = field(default_factory=time.monotonic)
    scoring_seconds: float = 0.0
    """Time spent scoring and checkpointing, left out of samples/s."""
    sampling_seconds: float = 0.0
    """Time spent timing a scoring on a sample (a budgeted run, before its first scoring): left out too."""
    seen: int = 0
    """Training samples consumed, over every rank."""
    last_progress: float = 0.0
    loss_sum: float = 0.0
    loss_batches: int = 0

    @property
    def best(self) -> CheckpointRecord | None:
        return best_checkpoint(self.history) if self.history else None

    @property
    def train_loss(self) -> float:
        """Mean training loss of the batches since the epoch began (or the run resumed)."""
        return self.loss_sum / max(1, self.loss_batches)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def budget_spent(self) -> float:
        """Seconds of the time budget spent, before a resume included."""
        return self.spent_before + self.elapsed()

    def samples_per_second(self, elapsed: float) -> float:
        return self.seen / max(elapsed - self.scoring_seconds - self.sampling_seconds, 1e-9)

    def checkpoint_fields(self) -> dict[str, Any]:
        """The part of the checkpoint that is the loop's position, history and best weights."""
        best = self.best
        return {
            "step": self.step,
            "epoch": self.epoch,
            "done_in_epoch": self.done_in_epoch,
            "history": [r.to_json() for r in self.history],
            "best_state": self.best_state,
            "best_score": best.score if best is not None else None,
            "budget_spent_s": self.budget_spent(),
            "scorings": self.scorings,
            "compute": self.compute.to_json() if self.compute is not None else None,
        }

    @classmethod
    def from_checkpoint(cls, saved: dict[str, Any]) -> TrainState:
        step = int(saved["step"])
        state = cls(
            step=step,
            epoch=int(saved["epoch"]),
            done_in_epoch=int(saved["done_in_epoch"]),
            history=[CheckpointRecord.from_json(r) for r in saved["history"]],
            best_state=saved["best_state"],
            resumed_from_step=step,
            spent_before=float(saved.get("budget_spent_s", 0.0)),
            scorings=int(saved.get("scorings", len(saved["history"]))),
            compute=compute.PrecisionChoice.from_json(saved["compute"]) if saved.get("compute") else None,
        )
        state.scorings_at_start = state.scorings
        state.log.append(f"resumed from step {step} (epoch {state.epoch + 1}, {state.done_in_epoch} batches done)")
        return state


@dataclass
class LoopResult:
    history: list[CheckpointRecord]
    best: CheckpointRecord
    best_state: dict[str, torch.Tensor]
    steps: int
    train_seconds: float
    """Wall time of the loop, scoring included."""
    samples_per_second: float
    """Training samples per second of optimizer work (scoring and checkpointing left out)."""
    resumed_from_step: int | None
    stop: Stop
    compute: compute.PrecisionChoice
    log: list[str] = field(default_factory=list)

    @property
    def stopped_early(self) -> str | None:
        """Why training ended before its last epoch, for people; None when it completed."""
        return None if self.stop.reason is StopReason.COMPLETED else self.stop.message


@dataclass
class Parts:
    """What the loop works with and does not change: the model, its optimizer, the data and the config."""

    model: Any
    wrapped: Any
    """``model``, or its DistributedDataParallel wrapper when several ranks train."""
    optimizer: torch.optim.AdamW
    scheduler: torch.optim.lr_scheduler.LambdaLR
    schedule: budget.Schedule
    loss_fn: torch.nn.CrossEntropyLoss
    splits: Splits
    num_labels: int
    lengths: np.ndarray[Any, np.dtype[np.int64]]
    batches_per_epoch: int
    total_steps: int
    """The steps the schedule ends at: every epoch's, or as many as fit the time budget (planned)."""
    max_steps: int
    """Every epoch's steps: a budgeted run never plans more."""
    config: LoopConfig
    runtime: Runtime
    plan: budget.BudgetPlan | None = None
    """The budget plan in force (None before the first, and without a budget)."""
    sampled_scoring_s: float | None = None
    """A scoring's seconds, extrapolated from a sample before the first real one (``time_scoring``)."""
    compute: compute.PrecisionChoice = NOT_CHOSEN

    @property
    def autocast(self) -> bool:
        """Train and score under bf16 autocast (``compute.choose``)."""
        return self.compute.autocast

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """The epoch's length-grouped batches for this rank: a function of (seed, epoch), so a resumed
        run sees the batches the interrupted one would have."""
        return length_grouped_batches(
            self.lengths,
            self.config.batch_size,
            self.config.seed,
            epoch,
            labels=self.splits.train_labels,
            rank=self.runtime.rank,
            world_size=self.runtime.world_size,
        )


def train(model: Any, splits: Splits, labels: list[str], config: LoopConfig, runtime: Runtime) -> LoopResult:
    """Fine-tune ``model`` and return the scored history and the best weights; TrainingInterrupted after
    saving the checkpoint when preempted or stopped at ``stop_after_steps``."""
    seed_everything(config.seed)
    parts = prepare(model, splits, labels, config, runtime)
    state = (restore(parts) if config.resume else None) or TrainState()
    state.started = time.monotonic()  # the clock starts once the model is ready
    choose_compute(parts, state)
    stop: Stop | None = None
    model.train()
    while state.epoch < config.epochs and stop is None:
        batches = parts.epoch_batches(state.epoch)
        while state.done_in_epoch < len(batches):
            step(parts, state, batches)
            if replan_due(parts, state):
                plan_budget(parts, state)
            elapsed = state.elapsed()
            report_progress(parts, state, elapsed)
            if scoring_due(parts, state, len(batches)):
                evaluate(parts, state, state.train_loss)
                plan_budget(parts, state)
            stop = should_stop(state, config, state.budget_spent(), parts.plan, clock_stops=runtime.world_size == 1)
            if stop is not None:
                break
        if state.done_in_epoch == len(batches):
            state.epoch, state.done_in_epoch = state.epoch + 1, 0
        if stop is not None and stop.reason.interrupts:
            # Save where we are, unscored, so the resumed run matches an uninterrupted one.
            save_checkpoint(parts, state)
            raise TrainingInterrupted(f"{stop.message}; checkpoint in {config.checkpoint_dir}, resume with --resume")
        if config.time_budget_s is None or stop is not None or state.epoch >= config.epochs:
            evaluate(parts, state, state.train_loss)  # a budgeted run scores at its planned steps instead
        state.loss_sum, state.loss_batches = 0.0, 0
    if runtime.is_main and (not state.history or state.history[-1].step != state.step):
        evaluate(parts, state, 0.0)  # resumed from a checkpoint taken after the last step but before its scoring
    return finish(state, stop or Stop(StopReason.COMPLETED, f"completed {config.epochs} epoch(s)"))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def prepare(model: Any, splits: Splits, labels: list[str], config: LoopConfig, runtime: Runtime) -> Parts:
    """Move the model to the device and build its optimizer, warm-up + linear-decay schedule and loss."""
    model.to(runtime.device)
    wrapped = torch.nn.parallel.DistributedDataParallel(model) if runtime.world_size > 1 else model
    lengths = splits.train.lengths()
    batches_per_epoch = len(
        length_grouped_batches(
            lengths, config.batch_size, config.seed, 0, rank=runtime.rank, world_size=runtime.world_size
        )
    )
    total_steps = math.ceil(batches_per_epoch / config.accumulation) * config.epochs
    optimizer = _optimizer(model, config)
    schedule = budget.Schedule(total_steps, config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    weights = torch.tensor(config.class_weights, dtype=torch.float32) if config.class_weights else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights.to(runtime.device) if weights is not None else None)
    return Parts(
        model,
        wrapped,
        optimizer,
        scheduler,
        schedule,
        loss_fn,
        splits,
        len(labels),
        lengths,
        batches_per_epoch,
        total_steps,
        total_steps,
        config,
        runtime,
    )


def restore(parts: Parts) -> TrainState | None:
    """The state saved in the checkpoint directory, with the model, optimizer, scheduler and RNGs put
    back where they were; None when there is no checkpoint (a first attempt)."""
    saved = checkpoint.load(parts.config.checkpoint_dir, parts.config.fingerprint)
    if saved is None:
        return None
    checkpoint.load_trainable_state(parts.model, saved["model"])
    parts.optimizer.load_state_dict(saved["optimizer"])
    parts.scheduler.load_state_dict(saved["scheduler"])  # a budgeted run's planned end comes back with it
    parts.total_steps = parts.schedule.total_steps
    state = TrainState.from_checkpoint(saved)
    checkpoint.restore_rng(saved["rng"])
    print(f"frontier train: {state.log[-1]}", file=sys.stderr)
    return state


def step(parts: Parts, state: TrainState, batches: list[list[int]]) -> None:
    """One optimizer step: forward and backward over the next ``accumulation`` batches of the epoch (fewer
    at its end), then clip, step the optimizer and the schedule."""
    config, runtime, splits = parts.config, parts.runtime, parts.splits
    end = min(len(batches), (state.done_in_epoch // config.accumulation + 1) * config.accumulation)
    for rows in batches[state.done_in_epoch : end]:
        batch = {name: tensor.to(runtime.device) for name, tensor in collate(splits.train, rows).items()}
        target = torch.as_tensor(splits.train_labels[rows], device=runtime.device)
        with torch.autocast(runtime.device.type, dtype=torch.bfloat16, enabled=parts.autocast):
            logits = parts.wrapped(**batch).logits
        loss = parts.loss_fn(logits.float(), target) / config.accumulation
        loss.backward()
        state.loss_sum += float(loss.detach()) * config.accumulation
        state.loss_batches += 1
        state.seen += len(rows) * runtime.world_size
    state.done_in_epoch = end
    torch.nn.utils.clip_grad_norm_(parts.model.parameters(), 1.0)
    parts.optimizer.step()
    parts.scheduler.step()
    parts.optimizer.zero_grad(set_to_none=True)
    state.step += 1


def choose_compute(parts: Parts, state: TrainState) -> None:
    """Settle the format the run trains in (``compute.choose``): a resumed run keeps its checkpoint's. The
    probe's passes count against a time budget but not in samples/s; their gradients are dropped."""
    if state.compute is None:
        started = time.monotonic()
        choice = compute.choose(
            parts.config.compute_precision,
            parts.runtime.device.type,
            compute.cpu_bf16_flags(),
            lambda precision: time_training_pass(parts, precision),
        )
        state.compute = agreed_compute(choice) if parts.runtime.world_size > 1 else choice
        state.sampling_seconds += time.monotonic() - started
    parts.compute = state.compute
    if parts.runtime.is_main:
        print(f"frontier train: computing in {state.compute.precision}: {state.compute.reason}", file=sys.stderr)


def time_training_pass(parts: Parts, precision: compute.ComputePrecision) -> float:
    """Seconds of one forward and backward pass, in ``precision``, over the median-length batch of the first
    epoch (the unwrapped model: no gradients are exchanged between ranks, and they are dropped)."""
    batches = parts.epoch_batches(0)
    rows = sorted(batches, key=lambda b: int(parts.lengths[b].max()))[len(batches) // 2]
    device = parts.runtime.device
    batch = {name: tensor.to(device) for name, tensor in collate(parts.splits.train, rows).items()}
    target = torch.as_tensor(parts.splits.train_labels[rows], device=device)
    started = time.perf_counter()
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision is compute.ComputePrecision.BF16):
        logits = parts.model(**batch).logits
    parts.loss_fn(logits.float(), target).backward()
    took = time.perf_counter() - started
    parts.optimizer.zero_grad(set_to_none=True)
    return took


def agreed_compute(choice: compute.PrecisionChoice) -> compute.PrecisionChoice:
    """Rank 0's choice on every rank: ranks that computed in different formats would train a different model
    than either would alone."""
    import torch.distributed

    flag = torch.tensor([int(choice.autocast)])
    torch.distributed.broadcast(flag, src=0)
    if bool(flag.item()) == choice.autocast:
        return choice
    agreed = compute.ComputePrecision.BF16 if flag.item() else compute.ComputePrecision.FP32
    return compute.PrecisionChoice(agreed, f"rank 0's choice ({choice.reason} here)")


def scoring_due(parts: Parts, state: TrainState, batches_in_epoch: int) -> bool:
    """Whether to score a checkpoint after this step: every ``evalSteps`` (the end of an epoch scores anyway),
    or at a budgeted run's planned steps (its last scoring follows the loop)."""
    plan = parts.plan
    if parts.config.time_budget_s is not None:
        return plan is not None and state.step < plan.total_steps and plan.scoring_due(state.step)
    if state.done_in_epoch == batches_in_epoch:
        return False
    return bool(parts.config.eval_steps) and state.step % parts.config.eval_steps == 0


def replan_due(parts: Parts, state: TrainState) -> bool:
    """A budgeted run plans after its probe steps, then again at the step its plan names (about every
    ``REPLAN_EVERY`` of the budget)."""
    if parts.config.time_budget_s is None:
        return False
    if parts.plan is None:
        return state.step - (state.resumed_from_step or 0) >= budget.PROBE_STEPS
    return state.step >= parts.plan.replan_step


def plan_budget(parts: Parts, state: TrainState) -> None:
    """Plan (again) the steps that fill the time budget from the pace measured so far, and end the
    learning-rate schedule there. Rank 0 plans; the other ranks take its number of steps."""
    config, runtime = parts.config, parts.runtime
    if config.time_budget_s is None:
        return
    steps_here = max(1, state.step - (state.resumed_from_step or 0))
    step_s = max(1e-6, state.elapsed() - state.scoring_seconds - state.sampling_seconds) / steps_here
    scorings_here = state.scorings - state.scorings_at_start
    if scorings_here > 0:
        pace = budget.Pace(step_s, state.scoring_seconds / scorings_here)
    else:
        if parts.sampled_scoring_s is None:
            parts.sampled_scoring_s = time_scoring(parts, state)
        pace = budget.Pace(step_s, parts.sampled_scoring_s)
    plan = budget.plan(
        config.time_budget_s,
        state.budget_spent(),
        state.step,
        pace,
        max_steps=parts.max_steps,
        scorings_done=state.scorings,
    )
    if runtime.world_size > 1:
        plan = agreed(plan)
    parts.plan, parts.total_steps = plan, plan.total_steps
    parts.schedule.replan(plan.total_steps)
    _apply_schedule(parts.scheduler)
    if runtime.is_main:
        print(f"frontier train: step {state.step}: {plan.describe(config.time_budget_s, pace)}", file=sys.stderr)


SCORING_SAMPLE = 128
"""Eval rows timed to extrapolate what a scoring will cost, before the first one."""


def _apply_schedule(scheduler: torch.optim.lr_scheduler.LambdaLR) -> None:
    """Set the rate the next step uses from the schedule as it is now: a plan that moved the end applies at
    once, not one step late (a plan shortened to end at this step leaves the rate at zero)."""
    rates = [
        base * rate(scheduler.last_epoch) for base, rate in zip(scheduler.base_lrs, scheduler.lr_lambdas, strict=True)
    ]
    for group, value in zip(scheduler.optimizer.param_groups, rates, strict=True):
        group["lr"] = value
    scheduler._last_lr = rates


def time_scoring(parts: Parts, state: TrainState) -> float:
    """Seconds a scoring will take: a forward pass over every k-th eval row (so their lengths are the split's),
    scaled by the padded tokens a scoring reads — its probe and eval rows, batched by length as ``torch_logits``
    batches them — over the sample's."""
    evaluation = parts.splits.eval
    take = min(len(evaluation), SCORING_SAMPLE)
    rows = np.linspace(0, len(evaluation) - 1, take).astype(int)
    types = evaluation.token_type_ids
    sample = Encoded(
        [evaluation.input_ids[i] for i in rows],
        [types[i] for i in rows] if types is not None else None,
        evaluation.pad_id,
    )
    started = time.monotonic()
    torch_logits(parts.model, sample, parts.runtime.device, autocast=parts.autocast)
    took = time.monotonic() - started
    state.sampling_seconds += took
    scored = padded_tokens(parts.splits.probe) + padded_tokens(evaluation)
    return took * scored / max(1, padded_tokens(sample))


def padded_tokens(encoded: Encoded) -> int:
    """Tokens a forward pass over ``encoded`` computes, padding included, in ``torch_logits``'s batches."""
    lengths = encoded.lengths()
    return sum(len(rows) * int(lengths[rows].max()) for rows in inference_batches(lengths, EVAL_BATCH))


def agreed(plan: budget.BudgetPlan) -> budget.BudgetPlan:
    """Rank 0's whole plan on every rank: ranks that stopped, scored or planned again at different steps would
    wait for each other forever."""
    import torch.distributed

    scoring = list(plan.scoring_steps) + [-1] * (budget.SCORINGS - len(plan.scoring_steps))
    numbers = torch.tensor([plan.total_steps, plan.replan_step, int(plan.capped_by_epochs), *scoring])
    seconds = torch.tensor([plan.scoring_s], dtype=torch.float64)
    torch.distributed.broadcast(numbers, src=0)
    torch.distributed.broadcast(seconds, src=0)
    total, replan, capped, *steps = (int(n) for n in numbers.tolist())
    return budget.BudgetPlan(total, tuple(s for s in steps if s >= 0), bool(capped), float(seconds.item()), replan)


def evaluate(parts: Parts, state: TrainState, train_loss: float) -> None:
    """Score the current weights (train probe and eval macro-F1), record them, keep them when they are
    the best so far, and write the resumable checkpoint. Rank 0 only (every rank counts the scoring)."""
    state.scorings += 1
    if not parts.runtime.is_main:
        return
    scoring_started = time.monotonic()
    splits, runtime, k = parts.splits, parts.runtime, parts.num_labels
    probe_pred = torch_logits(parts.model, splits.probe, runtime.device, autocast=parts.autocast).argmax(1)
    probe = metrics.macro_f1(splits.probe_labels, probe_pred, k)
    eval_pred = torch_logits(parts.model, splits.eval, runtime.device, autocast=parts.autocast).argmax(1)
    eval_f1 = metrics.macro_f1(splits.eval_labels, eval_pred, k)
    record = CheckpointRecord(
        step=state.step,
        epoch=round(state.epoch + state.done_in_epoch / max(1, parts.batches_per_epoch), 4),
        train_macro_f1=probe,
        eval_macro_f1=eval_f1,
        eval_accuracy=metrics.accuracy(splits.eval_labels, eval_pred),
        train_loss=train_loss,
        score=checkpoint_score(eval_f1, probe, parts.config.gap_penalty),
    )
    state.history.append(record)
    if state.best is record:
        state.best_state = checkpoint.trainable_state(parts.model)
    print(
        f"frontier train: checkpoint step {state.step}: eval macro-F1 {eval_f1:.4f}, train {probe:.4f}, "
        f"score {record.score:.4f}",
        file=sys.stderr,
    )
    save_checkpoint(parts, state)
    state.scoring_seconds += time.monotonic() - scoring_started


def should_stop(
    state: TrainState,
    config: LoopConfig,
    elapsed: float,
    plan: budget.BudgetPlan | None = None,
    *,
    clock_stops: bool = True,
) -> Stop | None:
    """Whether to stop after this step, and why: the step limit, a termination signal, the time budget
    (its planned steps done, or the budget itself spent). Ranks of a distributed run read different clocks, so
    there (``clock_stops`` False) only the agreed plan ends a budgeted run."""
    if config.stop_after_steps is not None and state.step >= config.stop_after_steps:
        return Stop(StopReason.STEP_LIMIT, f"stopped after {state.step} steps (--stop-after-steps)")
    if config.preempt_requested():
        return Stop(StopReason.PREEMPTED, f"stopped at step {state.step} on a termination signal")
    if config.time_budget_s is None:
        return None
    # The plan first: at its last step the clock may read the budget too, and the run ended as planned.
    if plan is not None and not plan.capped_by_epochs and state.step >= plan.total_steps:
        return Stop(
            StopReason.TIME_BUDGET,
            f"trained the {plan.total_steps} steps planned to fill the {config.time_budget_s:.0f}s time budget",
        )
    last_scoring = plan.scoring_s if plan is not None else 0.0  # it must still fit
    if clock_stops and elapsed + last_scoring >= config.time_budget_s:
        return Stop(StopReason.TIME_BUDGET, f"time budget of {config.time_budget_s:.0f}s reached at step {state.step}")
    return None


def save_checkpoint(parts: Parts, state: TrainState) -> None:
    """The resumable checkpoint (rank 0 writes it): weights, optimizer, schedule, RNGs and the state."""
    if not parts.runtime.is_main:
        return
    checkpoint.save(
        parts.config.checkpoint_dir,
        {
            "fingerprint": parts.config.fingerprint,
            "model": checkpoint.trainable_state(parts.model),
            "optimizer": parts.optimizer.state_dict(),
            "scheduler": parts.scheduler.state_dict(),
            "rng": checkpoint.rng_state(),
            **state.checkpoint_fields(),
        },
    )


def report_progress(parts: Parts, state: TrainState, elapsed: float) -> None:
    """A progress line (loss, samples/s, ETA) every few seconds and at the last step; rank 0 only."""
    config, runtime = parts.config, parts.runtime
    if not runtime.is_main or (elapsed - state.last_progress < PROGRESS_EVERY_S and state.step != parts.total_steps):
        return
    state.last_progress = elapsed
    rate = state.samples_per_second(elapsed)
    left = (parts.total_steps - state.step) * config.accumulation * config.batch_size * runtime.world_size / rate
    print(
        f"frontier train: epoch {state.epoch + 1}/{config.epochs} step {state.step}/{parts.total_steps} "
        f"loss {state.train_loss:.4f} {rate:.1f} samples/s ETA {_eta(left)}",
        file=sys.stderr,
        flush=True,
    )


def finish(state: TrainState, stop: Stop) -> LoopResult:
    elapsed = state.elapsed()
    best = state.best
    if best is None or state.best_state is None:
        raise TrainingError("training produced no scored checkpoint")
    return LoopResult(
        history=state.history,
        best=best,
        best_state=state.best_state,
        steps=state.step,
        train_seconds=elapsed,
        samples_per_second=state.samples_per_second(elapsed),
        resumed_from_step=state.resumed_from_step,
        stop=stop,
        compute=state.compute or NOT_CHOSEN,
        log=state.log,
    )


def _optimizer(model: Any, config: LoopConfig) -> torch.optim.AdamW:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            # Biases and normalisation weights are not decayed (the BERT recipe).
            (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def _eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
