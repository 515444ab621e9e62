"""One training run, end to end: data → fine-tuning → checkpoint selection → ONNX export and parity →
precision variants → a verified artifact directory.

The artifact is built in ``<out>.partial-<pid>`` beside ``out`` and renamed into place only when
every file is written and listed in the manifest; any failure removes the partial directory, so
``out`` is either a complete artifact or absent (``frontier.artifact``'s contract).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from frontier.api.resource import ClassifierModel
from frontier.api.spec import CandidateSpec, ClassifierModelSpec
from frontier.artifact import (
    PREDICTIONS,
    ArtifactManifest,
    describe_files,
    publish_atomically,
    read_manifest,
    write_manifest,
)
from frontier.data import data, sampling
from frontier.data.data import TrainingData
from frontier.errors import DataError, FieldError, SpecError
from frontier.trainer import card, fingerprint

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
    should_stop: Callable[[], bool] | None = None


def _candidate(spec: ClassifierModelSpec, name: str) -> CandidateSpec:
    try:
        return spec.candidate(name)
    except KeyError as error:
        raise SpecError([FieldError("--candidate", str(error.args[0]))]) from None


def _with_overrides(spec: ClassifierModelSpec, options: RunOptions) -> ClassifierModelSpec:
    dataset = data.with_sources(spec.dataset, train_uri=options.train_uri, eval_uri=options.eval_uri)
    return spec.model_copy(update={"dataset": dataset})


def _libraries(lora: bool) -> dict[str, str]:
    names = ["torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "frontier"]
    versions = {"python": platform.python_version()}
    for name in [*names, *(["peft"] if lora else [])]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


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
    runtime: Any,
    base_dir: Path,
) -> ArtifactManifest | None:
    from frontier.trainer import batching, loop, model_source

    hp, labels = cand.hyperparameters, model.spec.labels
    loop.seed_everything(hp.seed)
    loaded = model_source.load_for_training(cand, labels, base_dir)

    def encode(texts: list[str]) -> batching.Encoded:
        return batching.encode(loaded.tokenizer, texts, hp.max_length, loaded.input_names)

    train, evaluation = training_data.train, training_data.eval
    probe_rows = sampling.stratified_sample(train.labels, min(len(train), len(evaluation), PROBE_MAX), hp.seed)
    splits = loop.Splits(
        encode(train.texts),
        train.labels,
        encode([train.texts[i] for i in probe_rows]),
        train.labels[probe_rows],
        encode(evaluation.texts),
        evaluation.labels,
    )
    described = training_data.describe()
    config = loop.LoopConfig(
        epochs=hp.epochs,
        learning_rate=hp.learning_rate,
        batch_size=hp.batch_size,
        warmup_ratio=hp.warmup_ratio,
        weight_decay=hp.weight_decay,
        seed=hp.seed,
        gap_penalty=hp.gap_penalty,
        eval_steps=hp.eval_steps,
        accumulation=hp.gradient_accumulation_steps,
        fingerprint=fingerprint.run_fingerprint(spec_sha, labels, described),
        checkpoint_dir=options.checkpoint_dir or out.with_name(out.name + ".checkpoints"),
        resume=options.resume,
        class_weights=training_data.class_weights,
        stop_after_steps=options.stop_after_steps,
        time_budget_s=options.time_budget_s,
        should_stop=options.should_stop or (lambda: False),
    )
    result = loop.train(loaded.model, splits, labels, config, runtime)
    if not runtime.is_main:
        return None
    from frontier.trainer import checkpoint

    checkpoint.load_trainable_state(loaded.model, result.best_state)
    exportable = model_source.merged_for_export(loaded.model.cpu())
    staging = out.with_name(f"{out.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)  # beside out: the final rename stays on one filesystem
    try:
        manifest = _build_artifact(
            staging, model, cand, exportable, loaded, splits, training_data, result, spec_sha, runtime
        )
        publish_atomically(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _build_artifact(
    staging: Path,
    model: ClassifierModel,
    cand: CandidateSpec,
    exportable: Any,
    loaded: Any,
    splits: Any,
    training_data: TrainingData,
    result: Any,
    spec_sha: str,
    runtime: Any,
) -> ArtifactManifest:
    import torch

    from frontier.trainer import batching, evaluation, export, variants

    spec, labels = model.spec, model.spec.labels
    cpu = torch.device("cpu")
    fp32 = staging / variants.model_file("fp32")
    parity_rows = list(range(min(spec.export.parity_samples, len(training_data.eval))))
    parity_encoded = batching.Encoded(
        [splits.eval.input_ids[i] for i in parity_rows],
        [splits.eval.token_type_ids[i] for i in parity_rows] if splits.eval.token_type_ids is not None else None,
        splits.eval.pad_id,
    )
    export.export_onnx(exportable, loaded.input_names, parity_encoded, fp32, spec.export.opset)
    parity = export.check_parity(
        exportable,
        fp32,
        parity_encoded,
        cpu,
        spec.export.parity_tolerance,
        [training_data.eval.texts[i] for i in parity_rows],
    )
    export.save_tokenizer(loaded.tokenizer, staging / "tokenizer")
    eval_report = evaluation.score(evaluation.torch_logits(exportable, splits.eval, cpu), splits.eval_labels, labels)
    calibration_rows = sampling.stratified_sample(
        splits.train_labels, spec.export.int8.calibration_samples, cand.hyperparameters.seed
    )
    calibration = batching.Encoded(
        [splits.train.input_ids[i] for i in calibration_rows],
        [splits.train.token_type_ids[i] for i in calibration_rows] if splits.train.token_type_ids is not None else None,
        splits.train.pad_id,
    )
    built = variants.build(
        staging, spec.export, parity, splits.eval, splits.eval_labels, calibration, loaded.input_names, labels
    )
    best = result.best
    summary = {
        "macro_f1": eval_report["macro_f1"],
        "accuracy": eval_report["accuracy"],
        "balanced_accuracy": eval_report["balanced_accuracy"],
        "best_step": best.step,
        "best_score": best.score,
        "train_macro_f1": best.train_macro_f1,
        "train_samples_per_second": round(result.samples_per_second, 2),
        "train_seconds": round(result.train_seconds, 1),
        "parity_max_abs_logit_delta": parity.max_abs_delta,
    }
    metrics_doc = {
        "summary": summary,
        "eval": eval_report,
        "best_checkpoint": best.to_json(),
        "checkpoints": [r.to_json() for r in result.history],
        "precisions": built.reports,
        "parity": {
            "samples": parity.samples,
            "max_abs_logit_delta": parity.max_abs_delta,
            "agreement": parity.agreement,
            "tolerance": spec.export.parity_tolerance,
        },
        "training": {
            "steps": result.steps,
            "seconds": result.train_seconds,
            "samples_per_second": result.samples_per_second,
            "device": str(runtime.device),
            "threads": runtime.threads,
            "world_size": runtime.world_size,
            "resumed_from_step": result.resumed_from_step,
            "stopped_early": result.stopped_early,
        },
    }
    (staging / "metrics.json").write_text(json.dumps(metrics_doc, indent=2) + "\n")
    (staging / PREDICTIONS).write_text(json.dumps(built.predictions) + "\n")
    hyperparameters: dict[str, Any] = cand.hyperparameters.to_wire()
    if cand.method == "lora":
        hyperparameters["lora"] = cand.lora_settings.to_wire()
    manifest = ArtifactManifest(
        name=model.metadata.name,
        candidate=cand.name,
        base_model=cand.base_model,
        family=cand.family,
        method=cand.method,
        pooling=loaded.pooling,
        labels=list(labels),
        max_length=cand.hyperparameters.max_length,
        precisions=built.entries,
        files={},
        metrics=summary,
        hyperparameters=hyperparameters,
        data=training_data.describe(),
        libraries=_libraries(cand.method == "lora"),
        spec_digest=spec_sha,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    notes = [*training_data.notes, *result.log] + ([result.stopped_early] if result.stopped_early else [])
    (staging / "MODEL_CARD.md").write_text(card.render(manifest, eval_report, notes))
    manifest.files = describe_files(staging)
    write_manifest(staging, manifest)
    print(
        f"frontier train: exported {', '.join(built.entries)}; parity max |Δlogit| {parity.max_abs_delta:.2e}",
        file=sys.stderr,
    )
    return manifest
