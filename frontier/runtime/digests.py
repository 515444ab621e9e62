"""Digests of a step's inputs: equal digests mean the step's earlier result can be reused. Pure."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from frontier.api.spec import CandidateSpec, ClassifierModelSpec


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def spec_digest(spec: ClassifierModelSpec) -> str:
    """What makes a new generation of versions: everything but ``promotion``.

    A change of τ, guardrails, policy or a pin is a new *decision* over the versions already measured,
    not a reason to train and measure again (the operator numbers its versions the same way).
    """
    wire = spec.to_wire()
    wire.pop("promotion", None)
    return _digest(wire)


def _file_stamp(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"path": str(path), "missing": True}
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def training_digest(spec: ClassifierModelSpec, candidate: CandidateSpec, data_files: list[Path]) -> str:
    """What a training run depends on: labels, data (and the files' size and time), candidate, export."""
    return _digest(
        {
            "labels": spec.labels,
            "dataset": spec.dataset.to_wire(),
            "candidate": candidate.to_wire(),
            "export": spec.export.to_wire(),
            "files": [_file_stamp(p) for p in data_files],
        }
    )


def benchmark_digest(spec: ClassifierModelSpec, artifact_sha256: str, precision: str) -> str:
    """What a benchmark depends on: the exact artifact and precision, serving and benchmark settings."""
    serving = spec.serving.to_wire()
    serving.pop("endpoint", None)
    return _digest(
        {
            "artifact": artifact_sha256,
            "precision": precision,
            "serving": serving,
            "benchmark": spec.benchmark.to_wire(),
            "dataset": {k: v for k, v in spec.dataset.to_wire().items() if k != "balance"},
            "guardrails": spec.promotion.guardrails.to_wire(),
        }
    )
