"""The names Triton knows a ClassifierModel's versions by, one function each for both executors.

``stable_name``: what clients call (``spec.serving.modelName``, else the resource's name with ``-``
→ ``_``, as Triton model names are also directory names). ``version_model``: version N's own model,
``<stable>__vN``, which benchmarks call by name.
"""

from __future__ import annotations

from frontier.api.spec import ClassifierModelSpec


def stable_name(spec: ClassifierModelSpec, resource_name: str) -> str:
    return spec.serving.model_name or resource_name.replace("-", "_")


def version_model(stable: str, version: int) -> str:
    return f"{stable}__v{version}"
