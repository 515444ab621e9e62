"""The vocabulary between the planner and its executors: what was observed, what to do next. Pure values.

An executor (``frontier.operator`` with Jobs, ``frontier.runtime`` with subprocesses) *observes* the world
as a ``World``: for each piece of work the planner asked for — a candidate's training of one
generation, a version's benchmark — whether it is absent, running, done (with its result) or failed;
and what Triton's stable name serves. The planner (``frontier.decision.planner``) answers with the new
status and the ``Action`` values to carry out. Executors never decide; the planner never does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from frontier.api.spec import Precision
from frontier.api.status import Artifact, LlmMeasurement, Metrics

# --------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True, order=True)
class TrainingKey:
    """One candidate's training for one generation (a training Job, a ``frontier train`` process)."""

    candidate: str
    generation: int


@dataclass(frozen=True, order=True)
class BenchmarkKey:
    """One generation's benchmark: its versions and the promoted one, measured together in interleaved
    rounds (a benchmark Job, an in-process measurement)."""

    generation: int


@dataclass(frozen=True, order=True)
class BaselineKey:
    """One measurement of an ``llm`` baseline: its name and the digest of what the measurement depends on
    (a Job, an in-process measurement); a new digest is a new measurement, the same one is never paid twice."""

    name: str
    digest: str


WorkKey = TrainingKey | BenchmarkKey | BaselineKey

# ------------------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class Running:
    detail: str = ""
    """Where it runs, in words (``Job agnews-minilm-g1-train``)."""


@dataclass(frozen=True)
class Trained:
    artifact: Artifact
    precisions: frozenset[str] | None = None
    """The precisions the artifact holds; None when the executor cannot tell (every one is assumed)."""


@dataclass(frozen=True)
class Measured:
    metrics: Mapping[int, Metrics]
    """Per version number: every contender of the benchmark."""


@dataclass(frozen=True)
class BaselineMeasured:
    """What measuring an ``llm`` baseline found (``frontier.baselines.llm``)."""

    macro_f1: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    measurement: LlmMeasurement


@dataclass(frozen=True)
class Failed:
    reason: str
    message: str


Observed = Running | Trained | Measured | BaselineMeasured | Failed


class ServingKnown(StrEnum):
    """Why the stable name's version is not known."""

    NOT_CONFIGURED = "NotConfigured"  # no Triton endpoint: nothing to call
    UNAVAILABLE = "Unavailable"  # Triton did not answer


@dataclass(frozen=True)
class Served:
    """What Triton's stable name serves: a version, nothing (``None``), or unknown (``why``); and which
    versions' own models (``<m>__vN``) it has loaded."""

    version: int | None = None
    why: ServingKnown | None = None
    message: str = ""
    loaded: frozenset[int] = frozenset()

    @property
    def known(self) -> bool:
        return self.why is None


@dataclass(frozen=True)
class World:
    """Everything an executor observed, keyed by the work the planner names."""

    work: Mapping[WorkKey, Observed] = field(default_factory=dict)
    served: Served = field(default_factory=Served)

    def of(self, key: WorkKey) -> Observed | None:
        return self.work.get(key)

    def running(self) -> list[WorkKey]:
        return sorted((k for k, v in self.work.items() if isinstance(v, Running)), key=repr)


# ------------------------------------------------------------------------------------------ actions


@dataclass(frozen=True)
class Train:
    key: TrainingKey
    versions: tuple[int, ...]


@dataclass(frozen=True)
class Contender:
    """A version to measure: what to publish and where its eval rows come from."""

    version: int
    candidate: str
    precision: Precision
    generation: int
    artifact: Artifact

    def to_wire(self) -> dict[str, object]:
        return {
            "version": self.version,
            "candidate": self.candidate,
            "precision": self.precision,
            "generation": self.generation,
            "artifact": self.artifact.to_wire(),
        }


@dataclass(frozen=True)
class Benchmark:
    """Measure ``contenders`` together: the generation's versions and, when one is promoted, a fresh
    measurement of it (``incumbent``), so a challenger is never compared with an old number."""

    key: BenchmarkKey
    contenders: tuple[Contender, ...]
    incumbent: int | None = None
    discard: tuple[int, ...] = ()
    """Versions that will never serve again (retired, rejected, failed): their copies in the model
    repository go, so it does not grow with every generation (the benchmark has the repository at hand)."""


@dataclass(frozen=True)
class Promote:
    """Make the stable name serve ``version`` (``previous``: what it served, None for nothing/unknown).
    ``contender`` says what the version is, for an executor that may have to publish it first."""

    version: int
    previous: int | None
    contender: Contender | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Cancel:
    key: WorkKey
    why: str


@dataclass(frozen=True)
class Unload:
    """Unload a version's own model from Triton: it will never serve (retired, rejected, failed), and
    Triton's memory must not grow with every generation."""

    version: int


@dataclass(frozen=True)
class MeasureBaseline:
    """Measure the ``llm`` baseline ``key.name`` of the spec (its digest says which measurement)."""

    key: BaselineKey
    generation: int
    """The spec generation it is planned in (a Job reads that generation's manifest)."""


Action = Train | Benchmark | Promote | Cancel | Unload | MeasureBaseline


class Executor(Protocol):
    """What carries the planner's actions out: Kubernetes (``frontier.operator``) or this machine
    (``frontier.runtime``). Each method is idempotent: planning again plans the same action."""

    def train(self, action: Train) -> None: ...

    def benchmark(self, action: Benchmark) -> None: ...

    def promote(self, action: Promote) -> None: ...

    def cancel(self, action: Cancel) -> None: ...

    def unload(self, action: Unload) -> None: ...

    def measure_baseline(self, action: MeasureBaseline) -> None: ...


def carry_out(actions: Iterable[Action], executor: Executor) -> None:
    """Each action, in the planner's order, by the executor's method of its kind."""
    for action in actions:
        if isinstance(action, Train):
            executor.train(action)
        elif isinstance(action, Benchmark):
            executor.benchmark(action)
        elif isinstance(action, Promote):
            executor.promote(action)
        elif isinstance(action, Cancel):
            executor.cancel(action)
        elif isinstance(action, MeasureBaseline):
            executor.measure_baseline(action)
        else:
            executor.unload(action)


# ------------------------------------------------------------------------------------------- events


class EventReason(StrEnum):
    TRAINING_STARTED = "TrainingStarted"
    TRAINED = "Trained"
    ARTIFACT_REUSED = "ArtifactReused"
    TRAINING_FAILED = "TrainingFailed"
    BENCHMARK_STARTED = "BenchmarkStarted"
    BENCHMARKED = "Benchmarked"
    BENCHMARK_FAILED = "BenchmarkFailed"
    PROMOTED = "Promoted"
    RECOMMENDED = "Recommended"
    CANCELLED = "JobCancelled"
    BASELINE_STARTED = "BaselineStarted"
    BASELINE_MEASURED = "BaselineMeasured"
    BASELINE_FAILED = "BaselineFailed"


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event (the operator posts it) or a console line (``frontier run`` prints it)."""

    reason: EventReason
    message: str
    warning: bool = False

    @property
    def type(self) -> str:
        return "Warning" if self.warning else "Normal"
