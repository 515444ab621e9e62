"""Cost per 1M requests, in USD, under three price models. Pure arithmetic.

**Per-request occupancy** (serverless, as arXiv 2602.06370's Cloud Run deployment): each request holds
the whole instance for its latency, so

    cost_per_1M = 1e6 · (latency_ms / 1000) · instance_usd_per_second + fee_per_1M

With Cloud Run's 2 vCPU × $0.000024/s + 2 GiB × $0.0000025/s this is 0.053 · p50_ms.

**Dedicated capacity** (a replica that is always on): the hourly price spread over the requests the
replica can sustain,

    cost_per_1M = instance_usd_per_hour / (throughput_rps · 3600) · 1e6 + fee_per_1M

**Token-priced API** (LLM baselines): what the provider bills per 1M tokens, times tokens per request,

    cost_per_1M = input_tokens · input_usd_per_1M_tokens + output_tokens · output_usd_per_1M_tokens
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Instance:
    """A serving instance and its hourly prices."""

    vcpus: float
    memory_gib: float
    gpus: float = 0.0
    vcpu_hour_usd: float = 0.0
    memory_gib_hour_usd: float = 0.0
    gpu_hour_usd: float = 0.0
    request_fee_per_1m_usd: float = 0.0

    @property
    def usd_per_hour(self) -> float:
        return (
            self.vcpus * self.vcpu_hour_usd + self.memory_gib * self.memory_gib_hour_usd + self.gpus * self.gpu_hour_usd
        )

    @property
    def usd_per_second(self) -> float:
        return self.usd_per_hour / SECONDS_PER_HOUR


def occupancy(latency_ms: float, instance: Instance) -> float:
    """USD per 1M requests when each request is billed for its latency on the whole instance."""
    if latency_ms < 0:
        raise ValueError(f"latency must be >= 0 ms, got {latency_ms}")
    return 1e6 * (latency_ms / 1000.0) * instance.usd_per_second + instance.request_fee_per_1m_usd


def dedicated(throughput_rps: float, instance: Instance) -> float:
    """USD per 1M requests for an always-on instance serving ``throughput_rps`` sustainably."""
    if throughput_rps <= 0:
        raise ValueError(f"throughput must be > 0 requests/s, got {throughput_rps}")
    return instance.usd_per_hour / (throughput_rps * SECONDS_PER_HOUR) * 1e6 + instance.request_fee_per_1m_usd


def token_priced(
    input_tokens: float, output_tokens: float, input_usd_per_1m_tokens: float, output_usd_per_1m_tokens: float
) -> float:
    """USD per 1M requests to an API that bills tokens (mean tokens per request)."""
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("token counts must be >= 0")
    return input_tokens * input_usd_per_1m_tokens + output_tokens * output_usd_per_1m_tokens


CLOUD_RUN_2CPU_2GIB = Instance(
    vcpus=2,
    memory_gib=2,
    vcpu_hour_usd=0.000024 * SECONDS_PER_HOUR,
    memory_gib_hour_usd=0.0000025 * SECONDS_PER_HOUR,
)
"""The paper's encoder deployment: Cloud Run gen2, 2 vCPU and 2 GiB, billed per second, fee left out."""
