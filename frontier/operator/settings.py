"""The operator's own configuration, built once at start-up from flags and ``FRONTIER_*`` variables.

A frozen dataclass passed to every handler through kopf's ``memo``: nothing reads the environment
after start-up, so a test can run two operators with different settings in one process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_IMAGE = "ghcr.io/frontier-ml/frontier-worker:0.1.0"


@dataclass(frozen=True)
class OperatorSettings:
    namespaces: tuple[str, ...] = ()
    """Namespaces to watch; empty means every namespace (cluster-wide)."""
    worker_image: str = DEFAULT_IMAGE
    """The image of training and benchmark Jobs (a candidate's ``image`` overrides it)."""
    image_pull_policy: str = "IfNotPresent"
    service_account: str | None = None
    """The service account of the Jobs' pods (needs ``patch`` on configmaps to report results)."""
    backoff_limit: int = 1
    train_deadline_s: int = 6 * 3600
    bench_deadline_s: int = 3600
    artifacts: str = "/frontier/artifacts"
    """Artifact root when ``spec.storage.artifacts`` is left out: a path on the PVC (s3:// is not supported yet)."""
    model_repository: str = "/frontier/models"
    """Triton's model repository when ``spec.serving.modelRepository`` is left out."""
    triton_endpoint: str | None = None
    """Triton's HTTP endpoint when ``spec.serving.endpoint`` is left out; None: no Triton calls."""
    resync_s: float = 30.0
    """Level-triggered safety net: every model is reconciled at least this often."""
    peering: str | None = None
    """A kopf peering object's name for several replicas (one active); None runs standalone."""
    priority: int | None = None
    """kopf peering priority: the live replica with the highest one is active. Replicas must differ
    (kopf pauses *all* peers of equal priority), so None picks a random one when peering."""
    identity: str | None = None
    """This replica's name in the KopfPeering status; None lets kopf take ``$POD_ID`` (the chart sets
    it to the pod's name) or make one up from user, host and start time."""
    liveness: str | None = "http://0.0.0.0:8081/healthz"
    metrics_port: int | None = 8080
    kubeconfig: str | None = None
    """A kubeconfig file; in-cluster service-account credentials when left out and not in KUBECONFIG."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    def with_(self, **changes: Any) -> OperatorSettings:
        return replace(self, **changes)


ENV_PREFIX = "FRONTIER_OPERATOR_"


def _int(value: str | None, default: int) -> int:
    return default if value in (None, "") else int(value)


def from_environment(env: Mapping[str, str] | None = None, **overrides: Any) -> OperatorSettings:
    """Settings from ``FRONTIER_OPERATOR_*`` variables, then explicit ``overrides`` (the CLI flags)."""
    env = os.environ if env is None else env

    def get(key: str) -> str | None:
        return env.get(ENV_PREFIX + key)

    base = OperatorSettings()
    namespaces = tuple(n.strip() for n in (get("NAMESPACES") or "").split(",") if n.strip())
    settings = OperatorSettings(
        namespaces=namespaces,
        worker_image=get("WORKER_IMAGE") or base.worker_image,
        image_pull_policy=get("IMAGE_PULL_POLICY") or base.image_pull_policy,
        service_account=get("SERVICE_ACCOUNT") or base.service_account,
        backoff_limit=_int(get("BACKOFF_LIMIT"), base.backoff_limit),
        train_deadline_s=_int(get("TRAIN_DEADLINE_S"), base.train_deadline_s),
        bench_deadline_s=_int(get("BENCH_DEADLINE_S"), base.bench_deadline_s),
        artifacts=get("ARTIFACTS") or base.artifacts,
        model_repository=get("MODEL_REPOSITORY") or base.model_repository,
        triton_endpoint=get("TRITON_ENDPOINT") or base.triton_endpoint,
        resync_s=float(get("RESYNC_S") or base.resync_s),
        peering=get("PEERING") or base.peering,
        priority=None if get("PRIORITY") in (None, "") else int(get("PRIORITY") or 0),
        liveness=get("LIVENESS") or base.liveness,
        metrics_port=_int(get("METRICS_PORT"), base.metrics_port or 0) or None,
        kubeconfig=get("KUBECONFIG") or env.get("KUBECONFIG") or None,
    )
    return settings.with_(**{k: v for k, v in overrides.items() if v is not None})
