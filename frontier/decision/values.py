"""The plain values decisions are made over, built at the edges from status and spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["auto", "manual"]
Span = tuple[float, float]
"""An interval (low, high) a measured number lies in, as its benchmark estimated it."""
PRECISION_RANK = {"fp32": 0, "bf16": 1, "int8": 2}
"""Simpler first: full precision has no quantization step to go wrong."""


@dataclass(frozen=True)
class Measured:
    """One benchmarked version."""

    version: int
    candidate: str
    macro_f1: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cost_per_1m: float
    precision: str = "fp32"
    eligible: bool = True
    """False for versions that may never be promoted (e.g. a variant rejected for disagreement)."""
    note: str | None = None
    macro_f1_span: Span | None = None
    latency_spans: Mapping[str, Span] = field(default_factory=dict)
    """Per percentile (``p50``…), where the benchmark's interval puts it; a point when absent."""
    cost_span: Span | None = None

    def latency(self, percentile: str) -> float:
        return {"p50": self.p50_ms, "p95": self.p95_ms, "p99": self.p99_ms}[percentile]

    def f1_interval(self) -> Span:
        return self.macro_f1_span or (self.macro_f1, self.macro_f1)

    def latency_interval(self, percentile: str) -> Span:
        point = self.latency(percentile)
        return self.latency_spans.get(percentile, (point, point))

    def cost_interval(self) -> Span:
        return self.cost_span or (self.cost_per_1m, self.cost_per_1m)

    @property
    def simplicity(self) -> tuple[int, int]:
        """The order "the simpler version" means in a tie: full precision first, then the older version."""
        return (PRECISION_RANK.get(self.precision, 9), self.version)

    @property
    def label(self) -> str:
        return f"v{self.version} ({self.candidate}/{self.precision})"


@dataclass(frozen=True)
class Guardrails:
    min_macro_f1: float | None = None
    max_p95_ms: float | None = None
    max_cost_per_1m: float | None = None


@dataclass(frozen=True)
class Policy:
    """What the spec says about promotion, as plain numbers."""

    tau_ms: float = 500.0
    percentile: str = "p50"
    guardrails: Guardrails = field(default_factory=Guardrails)
    mode: Mode = "auto"
    pinned_version: int | None = None
    min_improvement: float = 0.0
    rollback: bool = True
