"""The legal moves of a version's state, in one table. Pure.

Every change of ``status.versions[].state`` goes through ``move``, which refuses a move the table does
not list: a bug that would, say, benchmark a retired version or un-fail a failed one stops at the first
step instead of reaching status. Staying in the same state is always legal (a level-triggered pass
re-asserts what it already wrote).
"""

from __future__ import annotations

from enum import StrEnum

from frontier.api.status import ModelVersion, VersionState

S = VersionState

TRANSITIONS: dict[VersionState, frozenset[VersionState]] = {
    S.PENDING: frozenset({S.TRAINING, S.TRAINED, S.FAILED, S.RETIRED}),
    S.TRAINING: frozenset({S.TRAINED, S.FAILED, S.RETIRED}),
    # A benchmark already measured (the same artifact and settings) makes Trained → Ready in one step.
    S.TRAINED: frozenset({S.BENCHMARKING, S.READY, S.PROMOTED, S.REJECTED, S.FAILED, S.RETIRED}),
    S.BENCHMARKING: frozenset({S.READY, S.PROMOTED, S.REJECTED, S.FAILED, S.RETIRED}),
    S.READY: frozenset({S.PROMOTED, S.RETIRED}),
    S.PROMOTED: frozenset({S.READY, S.RETIRED}),
    S.REJECTED: frozenset({S.RETIRED}),
    S.FAILED: frozenset({S.RETIRED}),
    S.RETIRED: frozenset(),
}

IN_TRAINING = frozenset({S.PENDING, S.TRAINING})
AWAITING_BENCHMARK = frozenset({S.TRAINED, S.BENCHMARKING})
MEASURED = frozenset({S.READY, S.PROMOTED, S.REJECTED})
SERVABLE = frozenset({S.READY, S.PROMOTED})


class Reason(StrEnum):
    """``status.versions[].reason`` as the planner writes it (a failed Job adds its own, e.g.
    ``DeadlineExceeded``)."""

    SPEC_CHANGED = "SpecChanged"
    RUNNING = "Running"
    TRAINING_FAILED = "TrainingFailed"
    BENCHMARK_FAILED = "BenchmarkFailed"
    PRECISION_MISSING = "PrecisionMissing"
    DISAGREES_WITH_FP32 = "DisagreesWithFp32"
    NO_RESULT = "NoResult"
    ARTIFACT_REUSED = "ArtifactReused"
    BASELINE_FAILED = "BaselineFailed"
    """An ``llm`` baseline could not be measured (endpoint unreachable, refused, budget spent before an answer)."""
    CREDENTIALS_MISSING = "CredentialsMissing"
    """An ``llm`` baseline's API key is not there (its Secret, or the variable ``frontier run`` reads)."""


class IllegalTransition(ValueError):
    """A version was asked to move between two states the lifecycle does not connect."""


def allowed(before: VersionState, after: VersionState) -> bool:
    return before == after or after in TRANSITIONS[before]


def move(version: ModelVersion, state: VersionState, **update: object) -> ModelVersion:
    """``version`` in ``state`` with ``update`` applied; ``IllegalTransition`` when the table forbids it."""
    if not allowed(version.state, state):
        raise IllegalTransition(f"v{version.version}: {version.state} → {state} is not a legal move")
    changes = {"state": state, **update}
    if all(getattr(version, key) == value for key, value in changes.items()):
        return version
    return version.model_copy(update=changes)
