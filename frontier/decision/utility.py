"""The utility of arXiv 2602.06370: U = F1 / cost · exp(−latency / τ).

F1 is a fraction in [0, 1], cost is USD per 1M requests, latency and τ are milliseconds. The paper
reports 100·U; we keep U. A version with zero cost would have infinite utility; it is refused instead,
since a zero price means the prices were not declared.
"""

from __future__ import annotations

import math


def utility(macro_f1: float, cost_per_1m: float, latency_ms: float, tau_ms: float) -> float:
    if not 0.0 <= macro_f1 <= 1.0:
        raise ValueError(f"macro-F1 must be a fraction in [0, 1], got {macro_f1}")
    if cost_per_1m <= 0:
        raise ValueError(f"cost per 1M requests must be > 0 USD, got {cost_per_1m}")
    if latency_ms < 0:
        raise ValueError(f"latency must be >= 0 ms, got {latency_ms}")
    if tau_ms <= 0:
        raise ValueError(f"tau must be > 0 ms, got {tau_ms}")
    return macro_f1 / cost_per_1m * math.exp(-latency_ms / tau_ms)
