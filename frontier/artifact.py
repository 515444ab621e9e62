"""The artifact a training run leaves behind, and its verification. Shared by trainer, serving and operator.

Layout of an artifact directory (one trained candidate, every precision)::

    manifest.json          this ArtifactManifest; its sha256 is the artifact's identity
    model.fp32.onnx        inputs input_ids / attention_mask [/ token_type_ids] (int64, [batch, seq]);
    model.int8.onnx        output logits (float32, [batch, num_labels]); one file per precision
    model.bf16.onnx
    tokenizer/             the tokenizer files (tokenizer.json, tokenizer_config.json, ...)
    metrics.json           the trainer's evaluation: checkpoints, per-class scores, confusion matrix
    predictions.json       the trainer's argmax on the eval set, per precision (for agreement checks)
    MODEL_CARD.md          a short human-readable card

A directory either holds a complete, verified artifact or does not exist: writers build it under a
temporary name and rename it into place (``publish_atomically``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from frontier.errors import ArtifactError
from frontier.tokens import Truncation

MANIFEST = "manifest.json"
PREDICTIONS = "predictions.json"
FORMAT = "frontier.dev/artifact/v1"


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=0)]


class PrecisionEntry(BaseModel):
    """One exported precision: its ONNX file and how it compares with the reference."""

    model_config = ConfigDict(extra="forbid")
    model: str
    """Path of the ONNX file, relative to the artifact directory."""
    macro_f1: float | None = None
    accuracy: float | None = None
    max_abs_logit_delta: float | None = None
    """Against the trained torch model (fp32) or the fp32 ONNX model (reduced precisions)."""
    agreement: float | None = None
    """Share of eval predictions equal to the reference's."""
    method: str | None = None
    """How the variant was made, e.g. ``onnxruntime dynamic quantization``."""


class ArtifactManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = FORMAT
    name: str
    candidate: str
    base_model: str
    family: str
    method: str
    pooling: str = "native"
    """What the classifier head reads: ``native`` (the architecture's head) or ``mean`` of token states."""
    labels: list[str]
    max_length: int
    truncation: Truncation = Truncation.HEAD
    """Which ``max_length`` tokens of a longer text the model reads (``frontier.tokens``)."""
    tokenizer: str = "tokenizer"
    precisions: dict[str, PrecisionEntry]
    files: dict[str, FileEntry]
    metrics: dict[str, Any] = Field(default_factory=dict)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    """Digests and row counts of the data the model was trained and evaluated on."""
    libraries: dict[str, str] = Field(default_factory=dict)
    spec_digest: str | None = None
    created_at: str | None = None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def describe_files(root: Path) -> dict[str, FileEntry]:
    """sha256 and size of every file under ``root`` except the manifest itself."""
    entries: dict[str, FileEntry] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative != MANIFEST:
            entries[relative] = FileEntry(sha256=sha256_file(path), size=path.stat().st_size)
    return entries


def write_manifest(root: Path, manifest: ArtifactManifest) -> str:
    """Write ``manifest.json``; returns its sha256, the artifact's identity."""
    path = root / MANIFEST
    path.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True) + "\n")
    return sha256_file(path)


def read_manifest(root: Path) -> ArtifactManifest:
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{root}: no {MANIFEST}; not a Frontier artifact")
    try:
        return ArtifactManifest.model_validate_json(path.read_text())
    except ValueError as error:
        raise ArtifactError(f"{path}: not a valid artifact manifest: {error}") from None


def verify(root: Path, only: list[str] | None = None) -> ArtifactManifest:
    """Check listed files (all, or ``only``) against the manifest; ArtifactError names the first bad one."""
    root = Path(root)
    manifest = read_manifest(root)
    names = only if only is not None else list(manifest.files)
    for name in names:
        entry = manifest.files.get(name)
        if entry is None:
            raise ArtifactError(f"{root}: {name} is not listed in {MANIFEST}")
        path = root / name
        if not path.is_file():
            raise ArtifactError(f"{root}: {name} is missing (listed in {MANIFEST})")
        actual = sha256_file(path)
        if actual != entry.sha256:
            raise ArtifactError(f"{root}: {name} has sha256 {actual[:12]}…, the manifest says {entry.sha256[:12]}…")
    return manifest


def publish_atomically(staging: Path, final: Path) -> None:
    """Move a finished ``staging`` directory to ``final`` in one rename (same filesystem)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)


def reference_predictions(artifact_dir: Path, precision: str, limit: int | None) -> list[int] | None:
    """The trainer's predictions on its eval split: what a served version of ``precision`` must agree with.

    Read from the artifact's ``predictions.json`` (``artifact_dir`` may also name that file itself):
    the ``fp32`` entry when there is one (every precision is compared with the full-precision model),
    else ``precision``'s; a bare list is taken as it is. The first ``limit`` of them when ``limit`` is
    set, matching ``frontier.data.evaluation.benchmark_rows``. None when the file or the entry is
    absent; ArtifactError when the file is not a JSON list of label indices per precision."""
    path = artifact_dir if artifact_dir.is_file() else artifact_dir / PREDICTIONS
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"{path}: cannot read the trainer's predictions: {error}") from None
    chosen = (data.get("fp32") or data.get(precision)) if isinstance(data, dict) else data
    if not chosen:
        return None
    if not isinstance(chosen, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in chosen):
        raise ArtifactError(f"{path}: predictions must be lists of label indices (integers)")
    return chosen[:limit] if limit else list(chosen)
