"""The artifact directory of a finished training run: ONNX export and parity, tokenizer, precision
variants, metrics.json, predictions.json, MODEL_CARD.md and the manifest listing them all.

``build`` fills a staging directory from three value objects — which run (``RunIdentity``), on what data
(``TrainingInputs``), with what result (``TrainedModel``) — and ``pipeline`` publishes it atomically.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from frontier.api.resource import ClassifierModel
from frontier.api.spec import CandidateSpec
from frontier.artifact import PREDICTIONS, ArtifactManifest, describe_files, write_manifest
from frontier.data import sampling
from frontier.data.data import TrainingData
from frontier.errors import TrainingError
from frontier.trainer import batching, card, evaluation, export, fusion, variants
from frontier.trainer.export import Parity
from frontier.trainer.lengths import LengthChoice
from frontier.trainer.loop import LoopResult, Splits
from frontier.trainer.model_source import LoadedModel
from frontier.trainer.runtime import Runtime


@dataclass(frozen=True)
class RunIdentity:
    """Which run the artifact is of: the resource, the candidate trained and the digest of its spec."""

    model: ClassifierModel
    candidate: CandidateSpec
    spec_digest: str


@dataclass(frozen=True)
class TrainingInputs:
    """The data the candidate was trained and scored on: as read (rows, notes, digests) and tokenized."""

    data: TrainingData
    splits: Splits
    length: LengthChoice
    """The truncation length the splits were tokenized at, and how it was chosen."""


@dataclass(frozen=True)
class TrainedModel:
    """What training produced and where it ran."""

    exportable: torch.nn.Module
    """The best checkpoint's weights as a plain classifier (LoRA merged), on the CPU, in eval mode."""
    loaded: LoadedModel
    """The tokenizer, the model's input names and its pooling."""
    result: LoopResult
    runtime: Runtime


def build(staging: Path, run: RunIdentity, inputs: TrainingInputs, trained: TrainedModel) -> ArtifactManifest:
    """Write every artifact file into ``staging`` and return the manifest written there."""
    scratch = Path(tempfile.mkdtemp(prefix="frontier-export-"))
    try:
        return _build(staging, scratch, run, inputs, trained)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _build(
    staging: Path, scratch: Path, run: RunIdentity, inputs: TrainingInputs, trained: TrainedModel
) -> ArtifactManifest:
    spec, labels = run.model.spec, run.model.spec.labels
    splits = inputs.splits
    exported = _export_fp32(staging, scratch, run, inputs, trained)
    parity = exported.parity
    export.save_tokenizer(trained.loaded.tokenizer, staging / "tokenizer")
    cpu = torch.device("cpu")
    eval_report = evaluation.score(
        evaluation.torch_logits(trained.exportable, splits.eval, cpu), splits.eval_labels, labels
    )
    built = variants.build(
        staging,
        spec.export,
        exported,
        splits.eval,
        splits.eval_labels,
        _calibration(run, splits),
        trained.loaded.input_names,
        labels,
    )
    summary = _summary(eval_report, trained.result, parity)
    metrics_doc = _metrics_document(run, trained, summary, eval_report, built, parity)
    (staging / "metrics.json").write_text(json.dumps(metrics_doc, indent=2) + "\n")
    (staging / PREDICTIONS).write_text(json.dumps(built.predictions) + "\n")
    manifest = _manifest(run, inputs, trained, built, summary)
    (staging / "MODEL_CARD.md").write_text(card.render(manifest, eval_report, _notes(inputs, trained.result)))
    manifest.files = describe_files(staging)
    write_manifest(staging, manifest)
    print(
        f"frontier train: exported {', '.join(built.entries)}; parity max |Δlogit| {parity.max_abs_delta:.2e}",
        file=sys.stderr,
    )
    return manifest


def _export_fp32(
    staging: Path, scratch: Path, run: RunIdentity, inputs: TrainingInputs, trained: TrainedModel
) -> export.Exported:
    """Export the fp32 ONNX model, fuse it where the architecture allows, and check what is served
    against the torch model on the first paritySamples eval rows."""
    settings = run.model.spec.export
    rows = list(range(min(settings.parity_samples, len(inputs.data.eval))))
    encoded = inputs.splits.eval.take(rows)
    texts = [inputs.data.eval.texts[i] for i in rows]

    def parity(path: Path) -> export.Parity:
        return export.check_parity(
            trained.exportable, path, encoded, torch.device("cpu"), settings.parity_tolerance, texts
        )

    exported = scratch / "exported.onnx"
    export.export_onnx(trained.exportable, trained.loaded.input_names, encoded, exported, settings.opset)
    checked = parity(exported)
    served = staging / variants.model_file("fp32")
    made = fusion.fuse(exported, served, getattr(trained.loaded.model, "config", None))
    if made is not None:
        try:
            return export.Exported(parity(served), exported, f"{variants.FP32_METHOD}; {made.describe()}")
        except TrainingError as error:
            print(f"frontier train: serving the export unfused: the fused graph failed: {error}", file=sys.stderr)
    shutil.copyfile(exported, served)
    return export.Exported(checked, exported, variants.FP32_METHOD)


def _calibration(run: RunIdentity, splits: Splits) -> batching.Encoded:
    """The stratified training rows static INT8 calibrates on."""
    rows = sampling.stratified_sample(
        splits.train_labels, run.model.spec.export.int8.calibration_samples, run.candidate.hyperparameters.seed
    )
    return splits.train.take([int(i) for i in rows])


def _summary(eval_report: dict[str, Any], result: LoopResult, parity: Parity) -> dict[str, Any]:
    """The headline numbers: metrics.json's ``summary`` and the manifest's ``metrics``."""
    best = result.best
    return {
        "macro_f1": eval_report["macro_f1"],
        "accuracy": eval_report["accuracy"],
        "balanced_accuracy": eval_report["balanced_accuracy"],
        "best_step": best.step,
        "best_score": best.score,
        "train_macro_f1": best.train_macro_f1,
        "train_samples_per_second": round(result.samples_per_second, 2),
        "compute_precision": result.compute.precision.value,
        "train_seconds": round(result.train_seconds, 1),
        "parity_max_abs_logit_delta": parity.max_abs_delta,
    }


def _metrics_document(
    run: RunIdentity,
    trained: TrainedModel,
    summary: dict[str, Any],
    eval_report: dict[str, Any],
    built: variants.Variants,
    parity: Parity,
) -> dict[str, Any]:
    result, runtime = trained.result, trained.runtime
    return {
        "summary": summary,
        "eval": eval_report,
        "best_checkpoint": result.best.to_json(),
        "checkpoints": [r.to_json() for r in result.history],
        "precisions": built.reports,
        "parity": {
            "samples": parity.samples,
            "max_abs_logit_delta": parity.max_abs_delta,
            "agreement": parity.agreement,
            "tolerance": run.model.spec.export.parity_tolerance,
        },
        "training": {
            "steps": result.steps,
            "seconds": result.train_seconds,
            "samples_per_second": result.samples_per_second,
            "device": str(runtime.device),
            "threads": runtime.threads,
            "world_size": runtime.world_size,
            "compute": result.compute.to_json(),
            "resumed_from_step": result.resumed_from_step,
            "stopped_early": result.stopped_early,
        },
    }


def _manifest(
    run: RunIdentity,
    inputs: TrainingInputs,
    trained: TrainedModel,
    built: variants.Variants,
    summary: dict[str, Any],
) -> ArtifactManifest:
    """The manifest, its file list still empty."""
    cand = run.candidate
    hyperparameters: dict[str, Any] = cand.hyperparameters.to_wire()
    if cand.method == "lora":
        hyperparameters["lora"] = cand.lora_settings.to_wire()
    return ArtifactManifest(
        name=run.model.metadata.name,
        candidate=cand.name,
        base_model=cand.base_model,
        family=cand.family,
        method=cand.method,
        pooling=trained.loaded.pooling,
        labels=list(run.model.spec.labels),
        max_length=inputs.length.max_length,
        truncation=inputs.length.truncation,
        precisions=built.entries,
        files={},
        metrics=summary,
        hyperparameters=hyperparameters,
        data=inputs.data.describe(),
        libraries=_libraries(cand.method == "lora"),
        spec_digest=run.spec_digest,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _notes(inputs: TrainingInputs, result: LoopResult) -> list[str]:
    """The model card's notes on the data and the run (sampling, a resume, an early stop)."""
    stopped = [result.stopped_early] if result.stopped_early else []
    computed = f"trained in {result.compute.precision} ({result.compute.reason})"
    chosen = [inputs.length.describe()] if inputs.length.coverage is not None else []
    return [*inputs.data.notes, *chosen, computed, *result.log, *stopped]


def _libraries(lora: bool) -> dict[str, str]:
    names = ["torch", "transformers", "tokenizers", "onnx", "onnxruntime", "numpy", "frontier"]
    versions = {"python": platform.python_version()}
    for name in [*names, *(["peft"] if lora else [])]:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions
