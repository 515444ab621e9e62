"""Which number format a training run computes in: asked for, a GPU, a CPU without bf16 instructions, or
measured on one with them (timings injected: the rule, not this machine's speed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from frontier.trainer.compute import ComputePrecision, PrecisionChoice, choose, cpu_bf16_flags

FP32, BF16 = ComputePrecision.FP32, ComputePrecision.BF16


def _timer(fp32_s: float, bf16_s: float, calls: list[ComputePrecision]) -> Callable[[ComputePrecision], float]:
    def time_step(precision: ComputePrecision) -> float:
        calls.append(precision)
        return fp32_s if precision is FP32 else bf16_s

    return time_step


@pytest.mark.parametrize(
    ("requested", "device", "flags", "expected"),
    [
        ("fp32", "cpu", ["avx512_bf16"], PrecisionChoice(FP32, "computePrecision: fp32")),
        ("bf16", "cpu", [], PrecisionChoice(BF16, "computePrecision: bf16")),
        ("auto", "cuda", [], PrecisionChoice(BF16, "GPU: bf16 autocast")),
        ("auto", "cpu", [], PrecisionChoice(FP32, "this CPU has no bf16 instructions (AVX-512 BF16 or AMX)")),
    ],
)
def test_a_choice_that_needs_no_measurement_measures_nothing(
    requested: str, device: str, flags: list[str], expected: PrecisionChoice
) -> None:
    calls: list[ComputePrecision] = []
    assert choose(requested, device, flags, _timer(1.0, 1.0, calls)) == expected
    assert calls == []


@pytest.mark.parametrize(
    ("fp32_s", "bf16_s", "kept", "verdict"),
    [
        (2.6, 1.1, BF16, "bf16 measured 2.36× fp32 per step, kept"),
        (1.1, 1.0, BF16, "bf16 measured 1.10× fp32 per step, kept"),
        (1.05, 1.0, FP32, "bf16 measured 1.05× fp32 per step, not kept (under 1.1×)"),
        (0.8, 1.0, FP32, "bf16 measured 0.80× fp32 per step, not kept (under 1.1×)"),
    ],
)
def test_on_a_cpu_with_bf16_instructions_bf16_is_kept_only_when_measured_faster(
    fp32_s: float, bf16_s: float, kept: ComputePrecision, verdict: str
) -> None:
    calls: list[ComputePrecision] = []
    choice = choose("auto", "cpu", ["amx_bf16"], _timer(fp32_s, bf16_s, calls))
    assert choice == PrecisionChoice(kept, f"CPU with amx_bf16: {verdict}", fp32_s, bf16_s)
    assert calls == [FP32, BF16] * 4  # a warm-up of each, then interleaved rounds


def test_the_probe_compares_medians_so_one_disturbed_pass_does_not_decide() -> None:
    times = iter([9.0, 9.0, 2.0, 1.0, 2.0, 30.0, 2.0, 1.0])  # warm-ups, then one bf16 pass hit by a neighbour
    choice = choose("auto", "cpu", ["avx512_bf16"], lambda _: next(times))
    assert choice.precision is BF16 and (choice.fp32_step_s, choice.bf16_step_s) == (2.0, 1.0)


def test_a_choice_round_trips_through_the_checkpoint() -> None:
    choice = PrecisionChoice(BF16, "CPU with avx512_bf16: bf16 measured 2.36× fp32 per step, kept", 2.6, 1.1)
    assert PrecisionChoice.from_json(choice.to_json()) == choice
    assert choice.autocast and not PrecisionChoice(FP32, "x").autocast


CPUINFO = """processor\t: 0
model name\t: AMD EPYC
flags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16
"""


def test_the_cpus_bf16_instruction_sets_are_read_from_its_flags() -> None:
    assert cpu_bf16_flags(CPUINFO) == ["avx512_bf16"]
    assert cpu_bf16_flags(CPUINFO.replace("avx512_bf16", "amx_bf16 amx_tile")) == ["amx_bf16"]
    assert cpu_bf16_flags("model name\t: a CPU with no flags line") == []
