"""One training run, end to end: data → fine-tuning → checkpoint selection → ONNX export and parity →
precision variants → a verified artifact directory.

The artifact is built in ``<out>.partial-<pid>`` beside ``out`` and renamed into place only when
every file is written and listed in the manifest; any failure removes the partial directory, so
``out`` is either a complete artifact or absent (``frontier.artifact``'s contract).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from frontier.api.resource import ClassifierModel
from frontier.api.spec import CandidateSpec, ClassifierModelSpec
from frontier.artifact import ArtifactManifest, publish_atomically, read_manifest
from frontier.data import data, sampling
from frontier.data.data import TrainingData
from frontier.errors import DataError, FieldError, SpecError
from frontier.tokens import Truncation
from frontier.trainer import fingerprint

if TYPE_CHECKING:  # torch is imported when training starts, not with this module
    from frontier.trainer.lengths import LengthChoice
    from frontier.trainer.loop import LoopConfig, Splits
    from frontier.trainer.model_source import LoadedModel
    from frontier.trainer.runtime import Runtime

PROBE_MAX = 2000


@dataclass
class RunOptions:
    """How this run differs from the spec: data overrides and the preemption/debug knobs."""

    data_root: Path | None = None
    train_uri: str | None = None
    eval_uri: str | None = None
    max_train_samples: int | None = None
    checkpoint_dir: Path | None = None
    resume: bool = False
    stop_after_steps: int | None = None
    time_budget_s: float | None = None
    preempt_requested: Callable[[], bool] | None = None
    """Polled after every optimizer step; True (after SIGTERM) checkpoints and stops the run."""


def _candidate(spec: ClassifierModelSpec, name: str) -> CandidateSpec:
    try:
        return spec.candidate(name)
    except KeyError as error:
        raise SpecError([FieldError("--candidate", str(error.args[0]))]) from None


def _with_overrides(spec: ClassifierModelSpec, options: RunOptions) -> ClassifierModelSpec:
    dataset = data.with_sources(spec.dataset, train_uri=options.train_uri, eval_uri=options.eval_uri)
    return spec.model_copy(update={"dataset": dataset})


def train_candidate(
    model: ClassifierModel,
    candidate: str,
    out: Path,
    *,
    data_root: Path | None = None,
    options: RunOptions | None = None,
) -> ArtifactManifest:
    """Train ``candidate`` of ``model`` and publish its artifact at ``out``; returns the manifest.

    Relative data URIs resolve against ``data_root`` (default: the current directory)."""
    options = options or RunOptions()
    out = Path(out).resolve()
    spec = model.spec
    cand = _candidate(spec, candidate)
    spec_sha = fingerprint.spec_digest(spec, candidate)
    effective = _with_overrides(spec, options)
    hp = cand.hyperparameters
    base_dir = (data_root or options.data_root or Path.cwd()).resolve()

    from frontier.trainer import runtime as runtime_setup

    runtime = runtime_setup.setup()
    training_data = data.prepare(
        effective.dataset, spec.labels, base_dir, hp.seed, max_train_samples=options.max_train_samples
    )
    _check_calibration(effective, len(training_data.train))
    manifest = _train(model, cand, training_data, spec_sha, out, options, runtime, base_dir)
    if runtime.world_size > 1:
        import torch.distributed

        torch.distributed.barrier()  # rank 0 exports and publishes; the other ranks wait for it
    return manifest if manifest is not None else read_manifest(out)


def _check_calibration(spec: ClassifierModelSpec, train_rows: int) -> None:
    """Static INT8 calibrates on training rows: asking for more than there are is a mistake, said before training."""
    int8 = spec.export.int8
    if "int8" in spec.export.precisions and int8.mode == "static" and int8.calibration_samples > train_rows:
        raise DataError(
            f"spec.export.int8.calibrationSamples ({int8.calibration_samples}) exceeds the {train_rows} training "
            "rows left after sampling; lower it or add data"
        )


def _train(
    model: ClassifierModel,
    cand: CandidateSpec,
    training_data: TrainingData,
    spec_sha: str,
    out: Path,
    options: RunOptions,
    runtime: Runtime,
    base_dir: Path,
) -> ArtifactManifest | None:
    """Fine-tune, then (rank 0) build the artifact from the best checkpoint and publish it at ``out``."""
    from frontier.trainer import artifact_builder, checkpoint, lengths, loop, model_source

    hp, labels = cand.hyperparameters, model.spec.labels
    loop.seed_everything(hp.seed)
    loaded = model_source.load_for_training(cand, labels, base_dir)
    train = training_data.train
    length = lengths.choose(
        loaded.tokenizer, train.texts, train.labels, hp.max_length, hp.length_coverage, hp.seed, hp.truncation
    )
    if (hp.length_coverage is not None or hp.truncation != Truncation.HEAD) and runtime.is_main:
        print(f"frontier train: {length.describe()}", file=sys.stderr)
    splits = _splits(loaded, length, hp.seed, training_data)
    config = _loop_config(
        cand, fingerprint.run_fingerprint(spec_sha, labels, training_data.describe()), training_data, out, options
    )
    result = loop.train(loaded.model, splits, labels, config, runtime)
    if not runtime.is_main:
        return None
    checkpoint.load_trainable_state(loaded.model, result.best_state)
    exportable = model_source.merged_for_export(loaded.model.cpu())
    run = artifact_builder.RunIdentity(model, cand, spec_sha)
    inputs = artifact_builder.TrainingInputs(training_data, splits, length)
    trained = artifact_builder.TrainedModel(exportable, loaded, result, runtime)
    manifest = _publish(out, lambda staging: artifact_builder.build(staging, run, inputs, trained))
    # The artifact is published: its checkpoints are no longer a way back to it, only disk on the shared volume.
    shutil.rmtree(config.checkpoint_dir, ignore_errors=True)
    return manifest


def _loop_config(
    cand: CandidateSpec, run_fingerprint: str, training_data: TrainingData, out: Path, options: RunOptions
) -> LoopConfig:
    """The loop's settings: the candidate's hyperparameters and this run's options."""
    from frontier.trainer import loop

    hp = cand.hyperparameters
    return loop.LoopConfig(
        epochs=hp.epochs,
        learning_rate=hp.learning_rate,
        batch_size=hp.batch_size,
        warmup_ratio=hp.warmup_ratio,
        weight_decay=hp.weight_decay,
        seed=hp.seed,
        gap_penalty=hp.gap_penalty,
        eval_steps=hp.eval_steps,
        accumulation=hp.gradient_accumulation_steps,
        fingerprint=run_fingerprint,
        checkpoint_dir=options.checkpoint_dir or out.with_name(out.name + ".checkpoints"),
        resume=options.resume,
        class_weights=training_data.class_weights,
        stop_after_steps=options.stop_after_steps,
        time_budget_s=options.time_budget_s if options.time_budget_s is not None else hp.time_budget_s,
        compute_precision=hp.compute_precision,
        preempt_requested=options.preempt_requested or (lambda: False),
    )


def _publish(out: Path, build: Callable[[Path], ArtifactManifest]) -> ArtifactManifest:
    """``build`` the artifact in ``<out>.partial-<pid>`` and rename it to ``out``; on any failure remove it."""
    staging = out.with_name(f"{out.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)  # beside out: the final rename stays on one filesystem
    try:
        manifest = build(staging)
        publish_atomically(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _splits(loaded: LoadedModel, length: LengthChoice, seed: int, training_data: TrainingData) -> Splits:
    """Tokenize train, the train probe (a stratified sample scored at every checkpoint) and eval."""
    from frontier.trainer import batching, loop

    def encode(texts: list[str]) -> batching.Encoded:
        return batching.encode(loaded.tokenizer, texts, length.max_length, loaded.input_names, length.truncation)

    train, evaluation = training_data.train, training_data.eval
    probe_rows = sampling.stratified_sample(train.labels, min(len(train), len(evaluation), PROBE_MAX), seed)
    return loop.Splits(
        encode(train.texts),
        train.labels,
        encode([train.texts[i] for i in probe_rows]),
        train.labels[probe_rows],
        encode(evaluation.texts),
        evaluation.labels,
    )
