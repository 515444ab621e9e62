"""The spec's declared prices applied to what a benchmark measured. Pure.

A benchmark records the two figures the cost models need: p50 at the lowest concurrency (``occupancy``)
and the sustainable throughput within the p95 guardrail (``dedicated``). Cost is therefore a function
of the measurement *and the current prices*: editing ``spec.benchmark.pricing`` re-prices every version,
re-ranks them and may promote another, with no benchmark run again.
"""

from __future__ import annotations

from frontier.api.spec import Pricing
from frontier.api.status import Metrics
from frontier.decision import cost


def instance_for(pricing: Pricing) -> cost.Instance:
    hardware = pricing.hardware
    return cost.Instance(
        vcpus=hardware.vcpus,
        memory_gib=hardware.memory_gib,
        gpus=hardware.gpus,
        vcpu_hour_usd=pricing.vcpu_hour_usd,
        memory_gib_hour_usd=pricing.memory_gib_hour_usd,
        gpu_hour_usd=pricing.gpu_hour_usd,
        request_fee_per_1m_usd=pricing.request_fee_per_1m_usd,
    )


def cost_per_1m(pricing: Pricing, p50_ms: float, throughput_rps: float) -> float:
    """USD per 1M requests under ``pricing``'s cost model."""
    instance = instance_for(pricing)
    if pricing.cost_model == "occupancy":
        return cost.occupancy(p50_ms, instance)
    return cost.dedicated(throughput_rps, instance)


def cost_span(pricing: Pricing, metrics: Metrics) -> tuple[float, float] | None:
    """The cost at the ends of the measured interval it is priced from (p50 or throughput); None when
    the benchmark gave no interval."""
    if pricing.cost_model == "occupancy":
        interval = metrics.p50_interval_ms
        if interval is None:
            return None
        return cost_per_1m(pricing, interval.low, 0.0), cost_per_1m(pricing, interval.high, 0.0)
    interval = metrics.throughput_interval_rps
    if interval is None or interval.low <= 0:
        return None
    return cost_per_1m(pricing, 0.0, interval.high), cost_per_1m(pricing, 0.0, interval.low)
