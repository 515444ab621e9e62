"""The plain values decisions are made over, built at the edges from status and spec."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["auto", "manual"]


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

    def latency(self, percentile: str) -> float:
        return {"p50": self.p50_ms, "p95": self.p95_ms, "p99": self.p99_ms}[percentile]

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
