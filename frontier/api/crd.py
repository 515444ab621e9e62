"""The CustomResourceDefinition, generated from the pydantic models.

pydantic writes JSON Schema (draft 2020-12); the API server wants a *structural* OpenAPI v3.0 schema:
no ``$ref``, no ``anyOf`` of types, every node typed, no ``additionalProperties: false`` (pruning does
that job), ``exclusiveMinimum`` as a boolean. This module makes that translation and adds what JSON
Schema cannot say: list semantics (``set``/``map``), the status subresource and printer columns.
CEL rules travel from the models' ``json_schema_extra`` untouched.
"""

from __future__ import annotations

from typing import Any

import yaml

from frontier.api import resource
from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus

# Lists whose items are unique (set) or keyed (map): the API server enforces it, and server-side
# apply merges them item by item instead of replacing the whole list.
LIST_TYPES: dict[str, dict[str, Any]] = {
    "spec.labels": {"x-kubernetes-list-type": "set"},
    "spec.candidates": {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    "spec.export.precisions": {"x-kubernetes-list-type": "set"},
    "spec.benchmark.concurrency": {"x-kubernetes-list-type": "set"},
    "status.conditions": {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    "status.versions": {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["version"]},
}

PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Promoted", "type": "integer", "jsonPath": ".status.promoted.version"},
    {"name": "Candidate", "type": "string", "jsonPath": ".status.promoted.candidate", "priority": 1},
    {"name": "Precision", "type": "string", "jsonPath": ".status.promoted.precision", "priority": 1},
    {"name": "MacroF1", "type": "number", "jsonPath": ".status.promoted.macroF1"},
    {"name": "TestF1", "type": "number", "jsonPath": ".status.promoted.testMacroF1"},
    {"name": "P95ms", "type": "number", "jsonPath": ".status.promoted.p95Ms"},
    {"name": "Cost/1M", "type": "number", "jsonPath": ".status.promoted.costPer1M"},
    {"name": "Utility", "type": "number", "jsonPath": ".status.promoted.utility", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

_DROP = {"title", "additionalProperties", "$defs", "examples"}


class _Translator:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def node(self, node: dict[str, Any], path: str) -> dict[str, Any]:
        if "$ref" in node:
            target = self.defs[node["$ref"].rsplit("/", 1)[-1]]
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            return self.node(merged, path)
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                raise ValueError(f"{path}: a union of several types is not structural")
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            return self.node({**options[0], **rest}, path)

        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP:
                continue
            if key == "default":
                if value is not None and not isinstance(value, dict | list):
                    out["default"] = value
            elif key == "const":
                out["enum"] = [value]
            elif key == "exclusiveMinimum":
                out["minimum"], out["exclusiveMinimum"] = value, True
            elif key == "exclusiveMaximum":
                out["maximum"], out["exclusiveMaximum"] = value, True
            elif key == "properties":
                out["properties"] = {k: self.node(v, f"{path}.{k}") for k, v in value.items()}
            elif key == "items":
                out["items"] = self.node(value, f"{path}[]")
            elif key == "required":
                out["required"] = sorted(value)
            else:
                out[key] = value
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self.node(node["additionalProperties"], f"{path}{{}}")
        if "enum" in out and "type" not in out:
            out["type"] = "string" if all(isinstance(v, str) for v in out["enum"]) else "integer"
        if "type" not in out:
            raise ValueError(f"{path}: every node of a structural schema needs a type")
        out.update(LIST_TYPES.get(path, {}))
        first = [k for k in ("type", "description") if k in out]
        return {**{k: out[k] for k in first}, **{k: v for k, v in out.items() if k not in first}}


def _schema_of(model: type[ClassifierModelSpec] | type[ClassifierModelStatus], root: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _Translator(schema).node(schema, root)


def openapi_schema() -> dict[str, Any]:
    """The structural OpenAPI v3 schema of the whole resource."""
    return {
        "type": "object",
        "description": "A text classifier whose candidates Frontier trains, serves, measures and promotes.",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": _schema_of(ClassifierModelSpec, "spec"),
            "status": _schema_of(ClassifierModelStatus, "status"),
        },
    }


def definition() -> dict[str, Any]:
    """The CustomResourceDefinition for ``classifiermodels.frontier.dev``."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{resource.PLURAL}.{resource.GROUP}",
            "labels": {"app.kubernetes.io/name": "frontier", "app.kubernetes.io/part-of": "frontier"},
        },
        "spec": {
            "group": resource.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.KIND,
                "listKind": f"{resource.KIND}List",
                "plural": resource.PLURAL,
                "singular": resource.SINGULAR,
                "shortNames": list(resource.SHORT_NAMES),
                "categories": ["frontier", "ml"],
            },
            "versions": [
                {
                    "name": resource.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": PRINTER_COLUMNS,
                    "schema": {"openAPIV3Schema": openapi_schema()},
                }
            ],
        },
    }


def render() -> str:
    """The CRD as the YAML kept in ``crds/classifiermodel.yaml``."""
    header = "# Generated by `frontier crd` from frontier/api; do not edit by hand.\n"
    return header + yaml.dump(definition(), Dumper=_NoAliasDumper, sort_keys=False, width=120)


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated sub-schemas out in full: CRDs are read by people and by tools without anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True
