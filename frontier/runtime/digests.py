"""``frontier run``'s cache keys: equal digests mean a step's earlier result in the work directory can be
reused. Pure. (Which edits make new versions is ``frontier.decision.generations``, for both executors;
these keys only find results already on disk, and add the data files' size and time.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from frontier.api.spec import CandidateSpec, ClassifierModelSpec


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


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
            "dataset": spec.dataset.training_wire(),
            "candidate": candidate.to_wire(),
            "export": spec.export.to_wire(),
            "files": [_file_stamp(p) for p in data_files],
        }
    )


def benchmark_digest(
    spec: ClassifierModelSpec, artifact_sha256: str, precision: str, test_files: list[Path] | None = None
) -> str:
    """What a benchmark depends on: the exact artifact and precision, serving and benchmark settings, and
    the test split's files (their rows are scored in the same pass; the eval rows are in the artifact)."""
    serving = spec.serving.to_wire()
    serving.pop("endpoint", None)
    return _digest(
        {
            "artifact": artifact_sha256,
            "precision": precision,
            "serving": serving,
            "benchmark": {k: v for k, v in spec.benchmark.to_wire().items() if k != "pricing"},
            "dataset": {k: v for k, v in spec.dataset.to_wire().items() if k != "balance"},
            "guardrails": spec.promotion.guardrails.to_wire(),
            **({"test_files": [_file_stamp(p) for p in test_files]} if test_files else {}),
        }
    )


def group_digest(members: list[str]) -> str:
    """A generation's versions measured together: the benchmark digests of its members."""
    return _digest(sorted(members))
