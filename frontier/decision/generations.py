"""Which spec edits make new versions, and which training a version can reuse. Pure, one rule for both
executors (the operator and ``frontier run``).

- ``generation_digest``: what makes a new *generation* of versions — everything in the spec but
  ``promotion`` (τ, guardrails, policy, a pin: a new decision over the versions already measured),
  ``baselines`` (what the versions are compared with, not what they are),
  ``benchmark.pricing`` (costs are re-priced from the measurements, ``pricing``), ``serving.endpoint``
  (where to reach Triton, not what it serves) and ``storage`` (where artifacts go, not what they are).
  A changed model name, backend, data set, candidate, export or benchmark setting is a new generation.
- ``training_digest``: what one candidate's training depends on — labels, dataset, the candidate,
  export. A new generation whose candidate has the digest of an earlier artifact reuses that artifact:
  adding a candidate trains only the new one, a benchmark edit measures again without training.

Generation numbers count the distinct digests a resource has seen (1, 2, 3, …), recorded in
``status.specDigest``; they do not follow ``metadata.generation``, which also moves on promotion edits.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from frontier.api.spec import CandidateSpec, ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def generation_digest(spec: ClassifierModelSpec) -> str:
    wire: dict[str, Any] = spec.to_wire()
    for key in ("promotion", "storage", "baselines"):
        wire.pop(key, None)
    wire["benchmark"] = {k: v for k, v in wire.get("benchmark", {}).items() if k != "pricing"}
    wire["serving"] = {k: v for k, v in wire.get("serving", {}).items() if k != "endpoint"}
    return _digest(wire)


def training_digest(spec: ClassifierModelSpec, candidate: CandidateSpec) -> str:
    return _digest(
        {
            "labels": spec.labels,
            "dataset": spec.dataset.training_wire(),
            "candidate": candidate.to_wire(),
            "export": spec.export.to_wire(),
        }
    )


def current_generation(status: ClassifierModelStatus) -> int:
    return max((v.spec_generation for v in status.versions), default=0)


def generation_of(spec: ClassifierModelSpec, status: ClassifierModelStatus) -> tuple[int, str]:
    """(the generation the spec asks for, its digest).

    A status written before digests were recorded keeps its newest generation (nothing is retrained
    because the operator was upgraded)."""
    digest = generation_digest(spec)
    current = current_generation(status)
    if current == 0:
        return 1, digest
    if status.spec_digest is None or status.spec_digest == digest:
        return current, digest
    return current + 1, digest
