"""The observed state of a ClassifierModel, as the operator (or ``frontier run``) writes it.

A version is one trained candidate at one precision: ``(candidate, precision, specGeneration)``
gets a version number that never changes and is the directory name in Triton's model repository.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from frontier.api._base import ApiModel
from frontier.api.spec import Precision


class Phase(StrEnum):
    """The resource as a whole, for ``kubectl get``."""

    PENDING = "Pending"
    TRAINING = "Training"
    BENCHMARKING = "Benchmarking"
    READY = "Ready"
    DEGRADED = "Degraded"
    FAILED = "Failed"


class VersionState(StrEnum):
    """Where one version is in its lifecycle; the legal moves are ``frontier.decision.states``."""

    PENDING = "Pending"  # waiting for its training
    TRAINING = "Training"  # training runs: train, select a checkpoint, export, check parity
    TRAINED = "Trained"  # artifact written and verified
    BENCHMARKING = "Benchmarking"  # published to the model repository and being measured through Triton
    READY = "Ready"  # measured: eligible for the decision
    PROMOTED = "Promoted"  # what the stable model name serves
    REJECTED = "Rejected"  # measured, but may never be promoted (reason says why)
    FAILED = "Failed"  # training, export or benchmark failed (reason says why)
    RETIRED = "Retired"  # from an older spec generation; kept for history


class ConditionType(StrEnum):
    READY = "Ready"
    TRAINING = "Training"
    BENCHMARKED = "Benchmarked"
    PROMOTED = "Promoted"
    DEGRADED = "Degraded"
    BASELINES_MEASURED = "BaselinesMeasured"
    """Only with ``llm`` baselines: every one measured, or why not."""


class DecisionAction(StrEnum):
    PROMOTE = "promote"
    KEEP = "keep"
    ROLLBACK = "rollback"
    PIN = "pin"
    RECOMMEND = "recommend"
    REFUSE = "refuse"


class Condition(ApiModel):
    """A Kubernetes API condition (metav1.Condition)."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: str
    """RFC 3339 time of the last change of ``status``."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None


class Interval(ApiModel):
    """Where a measured number lies, as its benchmark estimated it (a bootstrap interval)."""

    low: float
    high: float


class ScoreOnTest(ApiModel):
    """A version scored on ``dataset.test`` through Triton: for people, never for a decision."""

    macro_f1: Annotated[float, Field(ge=0, le=1)]
    accuracy: Annotated[float, Field(ge=0, le=1)]
    rows: Annotated[int, Field(ge=0)]
    macro_f1_interval: Interval | None = None
    errors: Annotated[int, Field(ge=0)] = 0


class RelativeLatency(ApiModel):
    """p50 as a multiple of another version's, measured in the same interleaved rounds: drift that moves
    the whole machine between runs moves both alike and cancels here."""

    to_version: Annotated[int, Field(ge=1)]
    ratio: Annotated[float, Field(ge=0)]
    interval: Interval


class Metrics(ApiModel):
    """What the benchmark measured for one version through Triton."""

    macro_f1: Annotated[float, Field(ge=0, le=1)]
    accuracy: Annotated[float, Field(ge=0, le=1)]
    p50_ms: Annotated[float, Field(ge=0)]
    p95_ms: Annotated[float, Field(ge=0)]
    p99_ms: Annotated[float, Field(ge=0)]
    throughput_rps: Annotated[float, Field(ge=0)]
    cost_per_1m: Annotated[float, Field(ge=0)]
    concurrency: Annotated[int, Field(ge=1)] | None = None
    """The concurrency level whose throughput priced the version (dedicated cost model)."""
    errors: Annotated[int, Field(ge=0)] = 0
    agreement: Annotated[float, Field(ge=0, le=1)] | None = None
    """Share of eval predictions equal to the fp32 parent's (reduced precisions) or the trainer's."""
    max_abs_logit_delta: Annotated[float, Field(ge=0)] | None = None
    macro_f1_interval: Interval | None = None
    """From the eval set's size: a bootstrap over the scored rows."""
    p50_interval_ms: Interval | None = None
    p95_interval_ms: Interval | None = None
    p99_interval_ms: Interval | None = None
    throughput_interval_rps: Interval | None = None
    rounds: Annotated[int, Field(ge=0)] | None = None
    """Interleaved rounds the latency numbers come from."""
    stable: bool | None = None
    """The intervals narrowed to the target before the measurement budget was spent."""
    interference_cores: Annotated[float, Field(ge=0)] | None = None
    """CPU (in cores) that processes other than Triton and the load generator took while measuring."""
    steal: Annotated[float, Field(ge=0, le=1)] | None = None
    """Share of CPU time the hypervisor stole while measuring (``/proc/stat``)."""
    disturbed: bool = False
    """Measured under heavy interference: repeated, and still marked when it stayed disturbed."""
    measured_with: list[int] = Field(default_factory=list)
    """The versions measured in the same interleaved rounds, on the same server and load generator."""
    p50_relative: RelativeLatency | None = None
    """p50 relative to the lowest version measured with it (absent on that version)."""
    test: ScoreOnTest | None = None
    """Scored on ``dataset.test`` after the measurement; no selection, guardrail or promotion reads it."""

    def latency(self, percentile: str) -> float:
        return {"p50": self.p50_ms, "p95": self.p95_ms, "p99": self.p99_ms}[percentile]


class Artifact(ApiModel):
    uri: Annotated[str, Field(min_length=1, max_length=2048)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    """Digest of the artifact manifest, which lists every file's own sha256."""


class ModelVersion(ApiModel):
    version: Annotated[int, Field(ge=1)]
    candidate: Annotated[str, Field(min_length=1, max_length=40)]
    precision: Precision = "fp32"
    spec_generation: Annotated[int, Field(ge=0)]
    state: VersionState = VersionState.PENDING
    reason: Annotated[str, Field(max_length=1024)] | None = None
    message: Annotated[str, Field(max_length=32768)] | None = None
    artifact: Artifact | None = None
    metrics: Metrics | None = None
    utility: Annotated[float, Field(ge=0)] | None = None
    on_pareto_front: bool = False
    created_at: str | None = None
    training_digest: Annotated[str, Field(max_length=64)] | None = None
    """Digest of the training inputs (labels, data, candidate, export): versions of a later generation
    with the same digest reuse this version's artifact instead of training again."""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.candidate, self.precision, self.spec_generation)


class PromotedVersion(ApiModel):
    version: Annotated[int, Field(ge=1)]
    candidate: str
    precision: Precision = "fp32"
    since: str
    model_name: Annotated[str, Field(max_length=64)] | None = None
    """The stable Triton name it was promoted under (a renamed model serves the new name only once a
    version of the renamed generation is promoted)."""
    utility: Annotated[float, Field(ge=0)] | None = None
    macro_f1: Annotated[float, Field(ge=0, le=1)] | None = None
    p95_ms: Annotated[float, Field(ge=0)] | None = None
    cost_per_1m: Annotated[float, Field(ge=0)] | None = None
    test_macro_f1: Annotated[float, Field(ge=0, le=1)] | None = None
    """On ``dataset.test``, which the decision never read (``macro_f1`` is on the eval rows it decided on)."""


class VersionScore(ApiModel):
    """One version as the decision saw it."""

    version: int
    utility: float | None = None
    on_pareto_front: bool = False
    guardrail_failures: list[str] = Field(default_factory=list)
    note: str | None = None
    utility_low: float | None = None
    utility_high: float | None = None
    """The utility at the worst and best ends of the version's measured intervals."""


class Decision(ApiModel):
    """Why the stable name serves what it serves, in words and numbers."""

    action: DecisionAction
    version: Annotated[int, Field(ge=1)] | None = None
    """The version served after the decision (none when nothing qualifies)."""
    previous_version: Annotated[int, Field(ge=1)] | None = None
    reason: Annotated[str, Field(min_length=1, max_length=128)]
    message: Annotated[str, Field(max_length=32768)]
    decided_at: str | None = None
    scores: list[VersionScore] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)
    """What each reduced precision gained or cost against its fp32 parent."""


class PromotionRecord(ApiModel):
    version: int
    since: str
    action: DecisionAction


class BaselineStatus(ApiModel):
    """A baseline on the versions' front (``spec.baselines``): shown, never served."""

    name: str
    kind: Literal["declared", "llm"] = "declared"
    macro_f1: Annotated[float, Field(ge=0, le=1)] | None = None
    p50_ms: Annotated[float, Field(ge=0)] | None = None
    p95_ms: Annotated[float, Field(ge=0)] | None = None
    p99_ms: Annotated[float, Field(ge=0)] | None = None
    cost_per_1m: Annotated[float, Field(ge=0)] | None = None
    """None while an ``llm`` baseline is not measured yet."""
    utility: Annotated[float, Field(ge=0)] | None = None
    """U with the spec's τ and latency percentile; none when macro-F1 or that percentile is not known."""
    source: str
    """A declared baseline's citation; an ``llm`` baseline's endpoint and model."""
    measured: LlmMeasurement | None = None
    """What measuring an ``llm`` baseline found (None for declared figures, or before it is measured)."""
    reason: str | None = None
    """Why an ``llm`` baseline is not measured: ``Measuring``, or what failed (``CredentialsMissing``…)."""
    message: str | None = None
    """In words: where it runs, or what failed (e.g. the Secret's key is not there)."""


class LlmMeasurement(ApiModel):
    """A prompted LLM on the eval rows, through its endpoint."""

    digest: Annotated[str, Field(max_length=64)]
    """Of what the measurement depends on: the same digest is never paid for twice."""
    rows: Annotated[int, Field(ge=0)]
    accuracy: Annotated[float, Field(ge=0, le=1)]
    input_tokens: Annotated[float, Field(ge=0)]
    """Mean prompt tokens per answered request (the API's ``usage``)."""
    output_tokens: Annotated[float, Field(ge=0)]
    unparseable: Annotated[int, Field(ge=0)]
    """Answers that named no label: scored as wrong."""
    errors: Annotated[int, Field(ge=0)]
    retries: Annotated[int, Field(ge=0)]
    requests: Annotated[int, Field(ge=0)]


class ServingStatus(ApiModel):
    """Where clients reach the promoted version, as KServe's ``status.url`` tells."""

    model_name: Annotated[str, Field(min_length=1, max_length=64)]
    """The stable Triton model name."""
    url: Annotated[str, Field(max_length=2048)] | None = None
    """Triton's inference URL for the stable name, when the endpoint is known."""


class ClassifierModelStatus(ApiModel):
    phase: Phase = Phase.PENDING
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    spec_digest: Annotated[str, Field(max_length=64)] | None = None
    """Digest of the spec fields that make versions (``frontier.decision.generations``): when it changes,
    the next generation of versions is planned."""
    conditions: list[Condition] = Field(default_factory=list)
    versions: list[ModelVersion] = Field(default_factory=list)
    promoted: PromotedVersion | None = None
    serving: ServingStatus | None = None
    decision: Decision | None = None
    baselines: list[BaselineStatus] = Field(default_factory=list)
    """``spec.baselines`` on the same front as the versions, for comparison."""
    history: Annotated[list[PromotionRecord], Field(max_length=100)] = Field(default_factory=list)
    """The last promotions and rollbacks, newest last."""

    def version(self, number: int) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == number), None)
