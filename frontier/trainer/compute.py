"""The number format a training run computes in: bf16 autocast where it pays, fp32 elsewhere.

GPUs train under bf16 autocast. A CPU with bf16 instructions (AVX-512 BF16 on AMD Zen 4 and Intel Cooper
Lake or later, AMX on Sapphire Rapids) may run bf16 matmuls two or more times faster than fp32 — or not,
depending on the kernels and the shapes — so under ``computePrecision: auto`` the run measures: a few
forward and backward passes on one of its own batches in each format, interleaved, and bf16 is kept only when
it is at least ``MIN_SPEEDUP`` faster. A CPU without those instructions trains in fp32 unmeasured (bf16
would be emulated). Master weights and the optimizer stay fp32 under autocast, so the exported model is an
fp32 model either way; the choice and the timings that made it go into the artifact's metrics.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
MIN_SPEEDUP = 1.1
"""bf16 must beat fp32 by this factor: a smaller gain is within the probe's noise and not worth the rounding."""
PROBE_ROUNDS = 3
"""Interleaved (fp32, bf16) timings after one warm-up pass of each: the medians are compared."""


class ComputePrecision(StrEnum):
    FP32 = "fp32"
    BF16 = "bf16"


@dataclass(frozen=True)
class PrecisionChoice:
    """The format a run trains in, why, and the step times measured when it was measured."""

    precision: ComputePrecision
    reason: str
    fp32_step_s: float | None = None
    bf16_step_s: float | None = None

    @property
    def autocast(self) -> bool:
        return self.precision is ComputePrecision.BF16

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision.value,
            "reason": self.reason,
            "fp32_step_s": self.fp32_step_s,
            "bf16_step_s": self.bf16_step_s,
        }

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> PrecisionChoice:
        return cls(
            ComputePrecision(saved["precision"]), saved["reason"], saved.get("fp32_step_s"), saved.get("bf16_step_s")
        )


def cpu_bf16_flags(cpuinfo: str | None = None) -> list[str]:
    """The bf16 instruction sets this CPU reports (``/proc/cpuinfo``'s flags); empty where it reports none."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return [flag for flag in BF16_CPU_FLAGS if flag in flags]


def choose(
    requested: str, device_type: str, bf16_flags: list[str], time_step: Callable[[ComputePrecision], float]
) -> PrecisionChoice:
    """The format to train in. ``requested`` is the spec's ``computePrecision``; ``time_step`` times one
    forward and backward pass in a format (called only when the choice is measured)."""
    if requested != "auto":
        return PrecisionChoice(ComputePrecision(requested), f"computePrecision: {requested}")
    if device_type == "cuda":
        return PrecisionChoice(ComputePrecision.BF16, "GPU: bf16 autocast")
    if not bf16_flags:
        return PrecisionChoice(ComputePrecision.FP32, "this CPU has no bf16 instructions (AVX-512 BF16 or AMX)")
    fp32_s, bf16_s = _probe(time_step)
    speedup = fp32_s / bf16_s
    keep = speedup >= MIN_SPEEDUP
    verdict = "kept" if keep else f"not kept (under {MIN_SPEEDUP}×)"
    reason = f"CPU with {', '.join(bf16_flags)}: bf16 measured {speedup:.2f}× fp32 per step, {verdict}"
    return PrecisionChoice(ComputePrecision.BF16 if keep else ComputePrecision.FP32, reason, fp32_s, bf16_s)


def _probe(time_step: Callable[[ComputePrecision], float]) -> tuple[float, float]:
    """Median step seconds of fp32 and bf16, measured alternately so a drifting machine slows both alike."""
    formats = (ComputePrecision.FP32, ComputePrecision.BF16)
    for precision in formats:
        time_step(precision)  # warm-up: kernel selection, allocator
    timings: dict[ComputePrecision, list[float]] = {precision: [] for precision in formats}
    for _ in range(PROBE_ROUNDS):
        for precision in formats:
            timings[precision].append(time_step(precision))
    return statistics.median(timings[ComputePrecision.FP32]), statistics.median(timings[ComputePrecision.BF16])
