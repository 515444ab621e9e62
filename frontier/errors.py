"""Frontier's errors. Each is raised by one layer and names what went wrong and where.

    FrontierError
    ├── SpecError (also ValueError)        a manifest breaks the API: field paths and rules
    ├── DataError (also ValueError)        training/eval data unreadable or inconsistent with the spec
    ├── TrainingError                      fine-tuning, export or the parity check failed
    ├── ArtifactError                      an artifact is missing a file or a checksum does not match
    └── ServingError                       Triton could not start, load, serve or swap a model

The operator maps them at its edge: SpecError and DataError are permanent (retrying cannot help),
ServingError is temporary (Triton may come back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class FrontierError(Exception):
    """Base of every error Frontier raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One broken rule at one field path, e.g. ``spec.candidates[1].lora``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpecError(FrontierError, ValueError):
    """A manifest that breaks the ClassifierModel API; lists every field error found."""

    def __init__(self, errors: Sequence[FieldError], source: str | None = None) -> None:
        self.errors = list(errors)
        self.source = source
        where = f"{source}: " if source else ""
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"{where}invalid ClassifierModel ({len(self.errors)} error(s)):\n{lines}")


class DataError(FrontierError, ValueError):
    """Training or evaluation data that cannot be used as the spec says."""


class TrainingError(FrontierError):
    """Fine-tuning, export or the parity check failed."""


class ArtifactError(FrontierError):
    """An artifact is incomplete, or a file does not match its manifest's sha256."""


class ArtifactMismatch(ArtifactError):
    """An artifact is not the one its version was recorded with (digest), or a version number would be
    reused for another artifact. Retrying cannot help."""


class ServingError(FrontierError):
    """Triton could not start, load, serve or swap a model."""
