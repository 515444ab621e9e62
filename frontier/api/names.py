"""The names Triton knows a ClassifierModel's versions by, one function each for both executors.

``stable_name``: what clients call. ``spec.serving.modelName`` when declared; otherwise derived from
the resource: ``<namespace>__<name>`` in a cluster (``ns-a/my-model`` and ``ns-b/my-model`` must not
share ``my_model``: one Triton serves many teams), ``<name>`` for ``frontier run`` (no namespace), with
``-`` → ``_``, as Triton model names are also directory names. ``version_model``: version N's own
model, ``<stable>__vN``, which benchmarks call by name.

A stable name belongs to one resource: ``holder`` picks it among every resource that claims it — the
oldest, so a newcomer can never take a name that serves traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from frontier.api.spec import ClassifierModelSpec


def stable_name(spec: ClassifierModelSpec, resource_name: str, namespace: str | None = None) -> str:
    if spec.serving.model_name:
        return spec.serving.model_name
    derived = f"{namespace}__{resource_name}" if namespace else resource_name
    return derived.replace("-", "_")


def version_model(stable: str, version: int) -> str:
    return f"{stable}__v{version}"


@dataclass(frozen=True, order=True)
class Claim:
    """A resource that wants to serve under a stable name (ordered: oldest first)."""

    created: str  # RFC 3339: sorts by time
    namespace: str
    name: str
    uid: str


def holder(claims: Iterable[Claim]) -> Claim | None:
    return min(claims, default=None)


def baseline_api_key_variable(baseline: str) -> str:
    """The environment variable a baseline's API key is read from: ``frontier run`` reads the user's
    environment; the baseline Job gets it from the Secret its ``credentials`` name."""
    return f"FRONTIER_BASELINE_{baseline.upper().replace('-', '_')}_API_KEY"
