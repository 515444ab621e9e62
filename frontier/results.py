"""The contract between the operator and its Jobs: how a Job reports what it produced.

Every Job gets ``FRONTIER_RESULT_CONFIGMAP`` (a ConfigMap of the Job's own name, created empty by the
operator) and ``FRONTIER_RESULT_NAMESPACE``. Before exiting 0 the workload writes one key,
``result.json``:

- a training Job: ``{"artifact": {"uri": "...", "sha256": "<manifest.json digest>"}}``;
- a benchmark Job: ``{"metrics": {"<version>": <status.versions[].metrics, camelCase>, ...}}``, one entry per
  version it measured (the generation's versions and the promoted one, measured together);
- a baseline Job: ``{"baseline": {"macroF1", "p50Ms", "p95Ms", "p99Ms", "measured": {...}}}`` (``BaselineResult``).

Before exiting non-zero on an error of its own, the workload writes
``{"error": {"reason": "DataError", "message": "...", "exitCode": 2}}`` (``publish_failure``, best effort:
a failure to publish never masks the error itself), so a failed Job's version says *why* (the data row, the
field) rather than only the Job controller's ``BackoffLimitExceeded``; ``failure`` is the operator's side.

A Job that succeeds without a readable result is treated as failed (``NoResult``): the operator never
guesses. ``publish`` is the workloads' side (in-cluster credentials, the kubernetes client imported lazily).

A neutral module: the workloads (``frontier train``, ``frontier bench``) and the operator both import it,
and it imports nothing of either (only ``frontier.api``, pydantic and the standard library).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, ValidationError

from frontier.api._base import ApiModel
from frontier.api.status import Artifact, LlmMeasurement, Metrics

RESULT_KEY = "result.json"
"""The key of the result ConfigMap a Job writes its payload to."""
ENV_RESULT_CONFIGMAP = "FRONTIER_RESULT_CONFIGMAP"
"""The environment variable naming the Job's result ConfigMap (the Job's own name)."""
ENV_RESULT_NAMESPACE = "FRONTIER_RESULT_NAMESPACE"
"""The environment variable naming the namespace of that ConfigMap (the Job's own)."""


class ResultError(ValueError):
    """A Job's result is missing or does not follow the contract."""


def _payload(configmap: Mapping[str, Any] | None) -> dict[str, Any]:
    data = (configmap or {}).get("data") or {}
    text = data.get(RESULT_KEY)
    if not text:
        raise ResultError(f"the Job wrote no {RESULT_KEY} into its result ConfigMap")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultError(f"{RESULT_KEY} is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ResultError(f"{RESULT_KEY} must be a JSON object")
    return payload


def _first(error: ValidationError) -> str:
    item = error.errors()[0]
    where = ".".join(str(part) for part in item["loc"])
    return f"{where}: {item['msg']}" if where else str(item["msg"])


def training_artifact(configmap: Mapping[str, Any] | None) -> Artifact:
    try:
        return Artifact.model_validate(_payload(configmap).get("artifact"))
    except ValidationError as error:
        raise ResultError(f"invalid artifact in {RESULT_KEY}: {_first(error)}") from None


def _non_finite(value: Any, where: str) -> str | None:
    """The path of the first NaN or infinity in ``value`` (JSON parses ``NaN`` and ``Infinity``), else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in {"nan", "inf", "infinity"}:
        return where  # what a lax float field would parse as one
    if isinstance(value, Mapping):
        items: list[tuple[str, Any]] = [(f"{where}.{key}", item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    else:
        return None
    return next((found for path, item in items if (found := _non_finite(item, path))), None)


def benchmark_metrics(configmap: Mapping[str, Any] | None) -> dict[int, Metrics]:
    """The metrics a benchmark Job published, per version (``{"metrics": {"<version>": {...}}}``); every
    number finite and in range (a ratio in [0, 1], no negative latency, percentiles in order), or
    ResultError naming the field."""
    raw = _payload(configmap).get("metrics")
    if not isinstance(raw, dict) or not raw:
        raise ResultError(f"{RESULT_KEY} holds no metrics per version")
    return {_version(key): _metrics(value, f"metrics.{key}") for key, value in raw.items()}


def _version(key: str) -> int:
    if not str(key).isdigit() or int(key) < 1:
        raise ResultError(f"invalid metrics in {RESULT_KEY}: {key!r} is not a version number")
    return int(key)


def _metrics(raw: Any, where: str) -> Metrics:
    bad = _non_finite(raw, where)
    if bad is not None:
        raise ResultError(f"invalid metrics in {RESULT_KEY}: {bad} is not a finite number")
    try:
        metrics = Metrics.model_validate(raw)
    except ValidationError as error:
        raise ResultError(f"invalid metrics in {RESULT_KEY}: {where}.{_first(error)}") from None
    if not metrics.p50_ms <= metrics.p95_ms <= metrics.p99_ms:
        raise ResultError(
            f"invalid metrics in {RESULT_KEY}: {where}.p50Ms <= p95Ms <= p99Ms does not hold "
            f"({metrics.p50_ms}, {metrics.p95_ms}, {metrics.p99_ms})"
        )
    return metrics


def benchmark_payload(metrics: Mapping[int, Metrics]) -> dict[str, Any]:
    """What a benchmark Job publishes: every contender's metrics, by version number."""
    return {"metrics": {str(version): m.to_wire() for version, m in sorted(metrics.items())}}


class BaselineResult(ApiModel):
    """What a baseline Job measured (``frontier.baselines``)."""

    macro_f1: Annotated[float, Field(ge=0, le=1)]
    p50_ms: Annotated[float, Field(ge=0)]
    p95_ms: Annotated[float, Field(ge=0)]
    p99_ms: Annotated[float, Field(ge=0)]
    measured: LlmMeasurement


def baseline_result(configmap: Mapping[str, Any] | None) -> BaselineResult:
    raw = _payload(configmap).get("baseline")
    bad = _non_finite(raw, "baseline")
    if bad is not None:
        raise ResultError(f"invalid baseline in {RESULT_KEY}: {bad} is not a finite number")
    try:
        return BaselineResult.model_validate(raw)
    except ValidationError as error:
        raise ResultError(f"invalid baseline in {RESULT_KEY}: {_first(error)}") from None


def baseline_payload(result: BaselineResult) -> dict[str, Any]:
    return {"baseline": result.to_wire()}


MAX_FAILURE_MESSAGE = 4096
"""The longest failure message a Job publishes (and the operator reads); longer ones are cut."""
_REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")  # a Kubernetes condition reason


def failure_payload(reason: str, message: str, exit_code: int) -> dict[str, Any]:
    """The ``result.json`` of a workload that exits ``exit_code`` because of ``reason`` (an error's name)."""
    return {"error": {"reason": reason, "message": _cut(message), "exitCode": exit_code}}


def failure(configmap: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(reason, message)`` of the error a failed Job published, or None when it published none (it was
    killed, its pod never started, or the result is not the contract's): the caller falls back to the Job's
    own condition. The message ends with the exit code when the Job gave one."""
    try:
        error = _payload(configmap).get("error")
    except ResultError:
        return None
    if not isinstance(error, dict):
        return None
    reason, message, code = error.get("reason"), error.get("message"), error.get("exitCode")
    if not isinstance(reason, str) or not _REASON.match(reason) or len(reason) > 128:
        return None
    text = _cut(message if isinstance(message, str) else "")
    if isinstance(code, int) and not isinstance(code, bool):
        text = f"{text} (exit code {code})" if text else f"exit code {code}"
    return reason, text


def _cut(message: str) -> str:
    return message if len(message) <= MAX_FAILURE_MESSAGE else message[: MAX_FAILURE_MESSAGE - 1] + "…"


def encode(payload: Mapping[str, Any]) -> dict[str, str]:
    """The ConfigMap ``data`` for a result payload."""
    return {RESULT_KEY: json.dumps(payload, sort_keys=True)}


def publish(payload: Mapping[str, Any]) -> bool:
    """Write ``payload`` to this Job's result ConfigMap; False when not running under the operator."""
    name, namespace = os.environ.get(ENV_RESULT_CONFIGMAP), os.environ.get(ENV_RESULT_NAMESPACE)
    if not name or not namespace:
        return False
    from kubernetes import client, config

    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    else:  # a Job's command run outside a pod (tests, a developer's shell): the kubeconfig in use
        config.load_kube_config()  # type: ignore[no-untyped-call]
    client.CoreV1Api().patch_namespaced_config_map(name, namespace, {"data": encode(payload)})
    return True


def publish_failure(reason: str, message: str, exit_code: int) -> bool:
    """Best effort ``publish(failure_payload(...))`` before a workload exits non-zero: any error publishing
    is printed to stderr and swallowed, so the workload's own error and exit code stand."""
    try:
        return publish(failure_payload(reason, message, exit_code))
    except Exception as error:  # the API server, credentials, the client: none may mask the real error
        print(f"frontier: could not publish the failure to the result ConfigMap: {error}", file=sys.stderr)
        return False
