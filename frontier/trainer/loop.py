"""The fine-tuning loop: AdamW with linear warm-up and decay, gradient accumulation, length-grouped
batches, periodic scoring of checkpoints, and checkpoints a preempted Job resumes from.

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
from pathlib import Path
from typing import Any

import numpy as np
import torch

from frontier.data import metrics
from frontier.data.sampling import Labels
from frontier.errors import TrainingError
from frontier.trainer import checkpoint
from frontier.trainer.batching import Encoded, collate, length_grouped_batches
from frontier.trainer.evaluation import torch_logits
from frontier.trainer.runtime import Runtime
from frontier.trainer.selection import CheckpointRecord, best_checkpoint, checkpoint_score


class TrainingInterrupted(TrainingError):
    """Training stopped on purpose (preemption signal or --stop-after-steps) after a checkpoint."""


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
    should_stop: Callable[[], bool] = lambda: False
    """Polled every step; True (e.g. after SIGTERM) checkpoints and raises TrainingInterrupted."""


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
class LoopResult:
    history: list[CheckpointRecord]
    best: CheckpointRecord
    best_state: dict[str, torch.Tensor]
    steps: int
    train_seconds: float
    """Wall time of the loop, scoring included."""
    samples_per_second: float
    """Training samples per second of optimizer work (scoring and checkpointing left out)."""
    resumed_from_step: int | None = None
    stopped_early: str | None = None
    log: list[str] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _optimizer(model: Any, config: LoopConfig) -> torch.optim.AdamW:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            # Biases and normalisation weights are not decayed (the BERT recipe).
            (no_decay if param.ndim < 2 or "norm" in name.lower() else decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def linear_schedule(total_steps: int, warmup_steps: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def _eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def train(model: Any, splits: Splits, labels: list[str], config: LoopConfig, runtime: Runtime) -> LoopResult:
    seed_everything(config.seed)
    model.to(runtime.device)
    k = len(labels)
    wrapped = model
    if runtime.world_size > 1:
        wrapped = torch.nn.parallel.DistributedDataParallel(model)
    lengths = splits.train.lengths()
    per_epoch = len(
        length_grouped_batches(
            lengths, config.batch_size, config.seed, 0, rank=runtime.rank, world_size=runtime.world_size
        )
    )
    steps_per_epoch = math.ceil(per_epoch / config.accumulation)
    total_steps = steps_per_epoch * config.epochs
    optimizer = _optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, linear_schedule(total_steps, math.ceil(config.warmup_ratio * total_steps))
    )
    weights = torch.tensor(config.class_weights, dtype=torch.float32) if config.class_weights else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights.to(runtime.device) if weights is not None else None)

    step, epoch, done_in_epoch = 0, 0, 0
    history: list[CheckpointRecord] = []
    best_state: dict[str, torch.Tensor] | None = None
    resumed_from: int | None = None
    log: list[str] = []
    state = checkpoint.load(config.checkpoint_dir, config.fingerprint) if config.resume else None
    if state is not None:
        checkpoint.load_trainable_state(model, state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, epoch, done_in_epoch = state["step"], state["epoch"], state["done_in_epoch"]
        history = [CheckpointRecord.from_json(r) for r in state["history"]]
        best_state = state["best_state"]
        checkpoint.restore_rng(state["rng"])
        resumed_from = step
        log.append(f"resumed from step {step} (epoch {epoch + 1}, {done_in_epoch} batches done)")
        print(f"frontier train: {log[-1]}", file=sys.stderr)

    def save() -> None:
        if runtime.is_main:
            checkpoint.save(
                config.checkpoint_dir,
                {
                    "fingerprint": config.fingerprint,
                    "model": checkpoint.trainable_state(model),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "step": step,
                    "epoch": epoch,
                    "done_in_epoch": done_in_epoch,
                    "rng": checkpoint.rng_state(),
                    "history": [r.to_json() for r in history],
                    "best_state": best_state,
                    "best_score": best_checkpoint(history).score if history else None,
                },
            )

    def score_and_save(running_loss: float) -> None:
        nonlocal best_state
        if not runtime.is_main:
            return
        scoring_started = time.monotonic()
        probe = metrics.macro_f1(
            splits.probe_labels,
            torch_logits(model, splits.probe, runtime.device, autocast=runtime.autocast).argmax(1),
            k,
        )
        eval_pred = torch_logits(model, splits.eval, runtime.device, autocast=runtime.autocast).argmax(1)
        eval_f1 = metrics.macro_f1(splits.eval_labels, eval_pred, k)
        record = CheckpointRecord(
            step=step,
            epoch=round(epoch + done_in_epoch / max(1, per_epoch), 4),
            train_macro_f1=probe,
            eval_macro_f1=eval_f1,
            eval_accuracy=metrics.accuracy(splits.eval_labels, eval_pred),
            train_loss=running_loss,
            score=checkpoint_score(eval_f1, probe, config.gap_penalty),
        )
        history.append(record)
        if best_checkpoint(history) is record:
            best_state = checkpoint.trainable_state(model)
        print(
            f"frontier train: checkpoint step {step}: eval macro-F1 {eval_f1:.4f}, train {probe:.4f}, "
            f"score {record.score:.4f}",
            file=sys.stderr,
        )
        save()
        timing["scoring"] += time.monotonic() - scoring_started

    timing = {"scoring": 0.0}  # time spent scoring and checkpointing, left out of samples/s
    started = time.monotonic()
    seen, last_print, losses = 0, 0.0, [0.0, 0]
    stopped: str | None = None
    model.train()
    while epoch < config.epochs and stopped is None:
        batches = length_grouped_batches(
            lengths, config.batch_size, config.seed, epoch, rank=runtime.rank, world_size=runtime.world_size
        )
        for index in range(done_in_epoch, len(batches)):
            rows = batches[index]
            batch = {k_: v.to(runtime.device) for k_, v in collate(splits.train, rows).items()}
            target = torch.as_tensor(splits.train_labels[rows], device=runtime.device)
            with torch.autocast(runtime.device.type, dtype=torch.bfloat16, enabled=runtime.autocast):
                logits = wrapped(**batch).logits
            loss = loss_fn(logits.float(), target) / config.accumulation
            loss.backward()
            losses[0] += float(loss.detach()) * config.accumulation
            losses[1] += 1
            seen += len(rows) * runtime.world_size
            done_in_epoch = index + 1
            if done_in_epoch % config.accumulation and done_in_epoch != len(batches):
                continue
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            elapsed = time.monotonic() - started
            if runtime.is_main and (elapsed - last_print >= 5 or step == total_steps):
                last_print = elapsed
                rate = seen / max(elapsed - timing["scoring"], 1e-9)
                left = (total_steps - step) * config.accumulation * config.batch_size * runtime.world_size / rate
                print(
                    f"frontier train: epoch {epoch + 1}/{config.epochs} step {step}/{total_steps} "
                    f"loss {losses[0] / max(1, losses[1]):.4f} {rate:.1f} samples/s ETA {_eta(left)}",
                    file=sys.stderr,
                    flush=True,
                )
            if config.eval_steps and step % config.eval_steps == 0 and done_in_epoch != len(batches):
                score_and_save(losses[0] / max(1, losses[1]))
            if config.stop_after_steps is not None and step >= config.stop_after_steps:
                stopped = f"stopped after {step} steps (--stop-after-steps)"
            elif config.should_stop():
                stopped = f"stopped at step {step} on a termination signal"
            elif config.time_budget_s is not None and elapsed >= config.time_budget_s:
                stopped = f"time budget of {config.time_budget_s:.0f}s reached at step {step}"
            if stopped:
                break
        if done_in_epoch == len(batches):
            epoch, done_in_epoch = epoch + 1, 0
        if stopped and not stopped.startswith("time budget"):
            # A preemption: save where we are, unscored, so the resumed run matches an uninterrupted one.
            save()
            raise TrainingInterrupted(f"{stopped}; checkpoint in {config.checkpoint_dir}, resume with --resume")
        score_and_save(losses[0] / max(1, losses[1]))
        losses = [0.0, 0]
    if runtime.is_main and (not history or history[-1].step != step):
        score_and_save(0.0)  # resumed from a checkpoint taken after the last step but before its scoring
    elapsed = time.monotonic() - started
    if not history or best_state is None:
        raise TrainingError("training produced no scored checkpoint")
    return LoopResult(
        history,
        best_checkpoint(history),
        best_state,
        step,
        elapsed,
        seen / max(elapsed - timing["scoring"], 1e-9),
        resumed_from,
        stopped,
        log,
    )
