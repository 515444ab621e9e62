"""Prometheus metrics of the operator (prometheus-client), served on ``--metrics-port``.

Counters say how often each handler ran and failed and what happened to Jobs; gauges carry each
model's promoted version's numbers, so a dashboard shows what the decision core chose and why.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from frontier.api.status import ClassifierModelStatus

RECONCILIATIONS = Counter("frontier_reconciliations_total", "Reconciliations by handler", ["handler"])
ERRORS = Counter("frontier_reconcile_errors_total", "Reconciliation errors by handler", ["handler"])
DURATION = Histogram("frontier_reconcile_seconds", "Time of one reconciliation", ["handler"])
JOBS = Counter("frontier_jobs_total", "Jobs by role and observed state", ["role", "state"])
PROMOTED_F1 = Gauge("frontier_promoted_macro_f1", "Macro-F1 of the promoted version", ["namespace", "model"])
PROMOTED_P95 = Gauge("frontier_promoted_p95_ms", "p95 latency (ms) of the promoted version", ["namespace", "model"])
PROMOTED_COST = Gauge(
    "frontier_promoted_cost_per_1m_usd", "Cost per 1M requests of the promoted version", ["namespace", "model"]
)
PROMOTED_UTILITY = Gauge("frontier_promoted_utility", "Utility U of the promoted version", ["namespace", "model"])
PROMOTED_VERSION = Gauge("frontier_promoted_version", "The promoted version number", ["namespace", "model"])
_GAUGES = (PROMOTED_F1, PROMOTED_P95, PROMOTED_COST, PROMOTED_UTILITY, PROMOTED_VERSION)


def record_promoted(namespace: str, model: str, status: ClassifierModelStatus) -> None:
    promoted = status.promoted
    if promoted is None:
        forget(namespace, model)
        return
    PROMOTED_VERSION.labels(namespace, model).set(promoted.version)
    for gauge, value in (
        (PROMOTED_F1, promoted.macro_f1),
        (PROMOTED_P95, promoted.p95_ms),
        (PROMOTED_COST, promoted.cost_per_1m),
        (PROMOTED_UTILITY, promoted.utility),
    ):
        if value is not None:
            gauge.labels(namespace, model).set(value)


def forget(namespace: str, model: str) -> None:
    for gauge in _GAUGES:
        try:
            gauge.remove(namespace, model)
        except KeyError:
            pass


def serve(port: int) -> None:
    start_http_server(port)
