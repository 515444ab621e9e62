"""Digests that identify what a run was asked to do. Pure (hashlib and json only): the operator may
import this module to compare a spec with an artifact's ``spec_digest`` without loading torch."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from frontier.api.spec import ClassifierModelSpec


def _digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def spec_digest(spec: ClassifierModelSpec, candidate: str) -> str:
    """sha256 of the candidate, dataset and export spec (camelCase wire JSON, sorted keys)."""
    return _digest(
        {
            "candidate": spec.candidate(candidate).to_wire(),
            "dataset": spec.dataset.to_wire(),
            "export": spec.export.to_wire(),
        }
    )


def run_fingerprint(spec_sha: str, labels: list[str], data: dict[str, Any]) -> str:
    """What a checkpoint must match to be resumed: the spec, the label order and the data used."""
    return _digest({"spec": spec_sha, "labels": labels, "data": data})
