"""The contract between the operator and its Jobs: how a Job reports what it produced.

Every Job gets ``FRONTIER_RESULT_CONFIGMAP`` (a ConfigMap of the Job's own name, created empty by the
operator) and ``FRONTIER_RESULT_NAMESPACE``. Before exiting 0 the workload writes one key,
``result.json``:

- a training Job: ``{"artifact": {"uri": "...", "sha256": "<manifest.json digest>"}}``;
- a benchmark Job: ``{"metrics": {<status.versions[].metrics, camelCase>}}``.

A Job that succeeds without a readable result is treated as failed (``NoResult``): the operator never
guesses. ``publish`` is the workloads' side (in-cluster credentials, the kubernetes client imported lazily).

A neutral module: the workloads (``frontier train``, ``frontier bench``) and the operator both import it,
and it imports nothing of either (only ``frontier.api``, pydantic and the standard library).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from frontier.api.status import Artifact, Metrics

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


def benchmark_metrics(configmap: Mapping[str, Any] | None) -> Metrics:
    try:
        return Metrics.model_validate(_payload(configmap).get("metrics"))
    except ValidationError as error:
        raise ResultError(f"invalid metrics in {RESULT_KEY}: {_first(error)}") from None


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
