"""Which spec generation the versions belong to: the *training* generation. Pure.

``metadata.generation`` moves on every spec edit, but only some edits ask for new versions: the
labels, the dataset, the candidates and the export. Pinning a version, switching the policy, moving
the Triton endpoint or the guardrails must not retrain anything (a pin names a version of the
generation that trained it). The operator therefore numbers versions by the generation at which the
training-relevant part of the spec last changed, and remembers it, with that part's digest, in the
annotation ``frontier.dev/training-generation: "<generation>:<sha256>"``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from frontier.api.spec import ClassifierModelSpec

ANNOTATION = "frontier.dev/training-generation"
TRAINING_FIELDS = ("labels", "dataset", "candidates", "export")


def digest(spec: ClassifierModelSpec) -> str:
    wire = spec.to_wire()
    relevant = {key: wire.get(key) for key in TRAINING_FIELDS}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def training_generation(
    annotations: Mapping[str, str], generation: int, spec: ClassifierModelSpec, known: int = 0
) -> tuple[int, str | None]:
    """(the versions' generation, the annotation value to write or None when it is up to date).

    ``known`` is the newest generation already in ``status.versions`` (0 for none): a model that ran
    before the annotation existed keeps its versions."""
    current = digest(spec)
    recorded = annotations.get(ANNOTATION, "")
    number, _, recorded_digest = recorded.partition(":")
    if recorded_digest == current and number.isdigit():
        return int(number), None
    chosen = known if (not recorded and known) else generation
    return chosen, f"{chosen}:{current}"


def parse_annotation(value: Any) -> int | None:
    number = str(value or "").partition(":")[0]
    return int(number) if number.isdigit() else None
