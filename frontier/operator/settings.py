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
    """None (the default): each training and benchmark Job runs as a ServiceAccount of its own, which may
    write its own result ConfigMap and nothing else (``jobs.job_identity``). A name: every Job runs as
    that one instead, which needs ``patch`` on configmaps, so any Job could overwrite another's result."""
    backoff_limit: int = 1
    train_deadline_s: int = 6 * 3600
    bench_deadline_s: int = 3600
    job_retention_s: int | None = 7 * 24 * 3600
    """How long a finished training or benchmark Job (and its pods and logs) is kept
    (``ttlSecondsAfterFinished``); its result stays in status. None keeps Jobs until the model is deleted."""
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
    run_as_user: int = 10001
    """The uid of the Jobs' pods (``securityContext.runAsUser``; never 0: they run under the ``restricted``
    Pod Security Standard). 10001 is the worker image's own user, so files earlier Jobs left on the PVC
    stay writable."""
    run_as_group: int = 10001
    fs_group: int = 10001
    """The group volumes that support ownership management (a PVC) are made writable to."""
    allowed_images: tuple[str, ...] = ()
    """The platform admin's policy (``frontier.operator.admission``): image prefixes a Job may run (a
    candidate's ``image`` and the worker image); empty allows any."""
    allowed_pvcs: tuple[str, ...] = ()
    """PVC names ``spec.storage.pvc`` may name; empty allows any."""
    allowed_secrets: tuple[str, ...] = ()
    """Secret names ``spec.storage.credentialsSecret`` may name; empty allows any."""
    allowed_endpoints: tuple[str, ...] = ()
    """Triton endpoint prefixes ``spec.serving.endpoint`` may name (``http://host[:port][/path]``); empty
    allows any."""

    def __post_init__(self) -> None:
        if self.run_as_user <= 0:
            raise ValueError(f"run_as_user must be a non-root uid (> 0), not {self.run_as_user}")
        if self.run_as_group < 0 or self.fs_group < 0:
            raise ValueError("run_as_group and fs_group must be >= 0")

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    def with_(self, **changes: Any) -> OperatorSettings:
        return replace(self, **changes)


ENV_PREFIX = "FRONTIER_OPERATOR_"


def _int(value: str | None, default: int) -> int:
    return default if value in (None, "") else int(value)


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def from_environment(env: Mapping[str, str] | None = None, **overrides: Any) -> OperatorSettings:
    """Settings from ``FRONTIER_OPERATOR_*`` variables, then explicit ``overrides`` (the CLI flags)."""
    env = os.environ if env is None else env

    def get(key: str) -> str | None:
        return env.get(ENV_PREFIX + key)

    base = OperatorSettings()
    namespaces = _list(get("NAMESPACES"))
    settings = OperatorSettings(
        namespaces=namespaces,
        worker_image=get("WORKER_IMAGE") or base.worker_image,
        image_pull_policy=get("IMAGE_PULL_POLICY") or base.image_pull_policy,
        service_account=get("SERVICE_ACCOUNT") or base.service_account,
        backoff_limit=_int(get("BACKOFF_LIMIT"), base.backoff_limit),
        train_deadline_s=_int(get("TRAIN_DEADLINE_S"), base.train_deadline_s),
        bench_deadline_s=_int(get("BENCH_DEADLINE_S"), base.bench_deadline_s),
        job_retention_s=_int(get("JOB_RETENTION_S"), base.job_retention_s or 0) or None,
        artifacts=get("ARTIFACTS") or base.artifacts,
        model_repository=get("MODEL_REPOSITORY") or base.model_repository,
        triton_endpoint=get("TRITON_ENDPOINT") or base.triton_endpoint,
        resync_s=float(get("RESYNC_S") or base.resync_s),
        peering=get("PEERING") or base.peering,
        priority=None if get("PRIORITY") in (None, "") else int(get("PRIORITY") or 0),
        liveness=get("LIVENESS") or base.liveness,
        metrics_port=_int(get("METRICS_PORT"), base.metrics_port or 0) or None,
        kubeconfig=get("KUBECONFIG") or env.get("KUBECONFIG") or None,
        run_as_user=_int(get("RUN_AS_USER"), base.run_as_user),
        run_as_group=_int(get("RUN_AS_GROUP"), base.run_as_group),
        fs_group=_int(get("FS_GROUP"), base.fs_group),
        allowed_images=_list(get("ALLOWED_IMAGES")),
        allowed_pvcs=_list(get("ALLOWED_PVCS")),
        allowed_secrets=_list(get("ALLOWED_SECRETS")),
        allowed_endpoints=_list(get("ALLOWED_ENDPOINTS")),
    )
    return settings.with_(**{k: v for k, v in overrides.items() if v is not None})
