"""The CRD is generated from the pydantic models, structural, and the copy in crds/ is in sync."""

from __future__ import annotations

from typing import Any

import yaml

from frontier.api import crd
from tests.conftest import ROOT


def walk(node: Any, path: str = ""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.get("properties", {}).items():
            yield from walk(value, f"{path}.{key}")
        if "items" in node:
            yield from walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            yield from walk(node["additionalProperties"], f"{path}{{}}")


def test_crds_folder_holds_exactly_what_frontier_crd_prints():
    assert (ROOT / "crds" / "classifiermodel.yaml").read_text() == crd.render(), (
        "crds/ is stale: run `frontier crd -o crds/classifiermodel.yaml`"
    )


def test_the_schema_is_structural():
    schema = crd.definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in walk(schema):
        assert "type" in node, f"{path} has no type"
        assert "$ref" not in node and "anyOf" not in node and "oneOf" not in node, path
        assert node.get("additionalProperties") is not False, f"{path}: additionalProperties false"


def test_names_status_subresource_and_printer_columns():
    definition = crd.definition()
    names = definition["spec"]["names"]
    assert definition["metadata"]["name"] == "classifiermodels.frontier.dev"
    assert (names["kind"], names["plural"], names["shortNames"]) == ("ClassifierModel", "classifiermodels", ["clm"])
    version = definition["spec"]["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    columns = {c["name"]: c["jsonPath"] for c in version["additionalPrinterColumns"]}
    assert columns["Phase"] == ".status.phase"
    assert columns["Promoted"] == ".status.promoted.version"
    assert columns["MacroF1"] == ".status.promoted.macroF1"
    assert columns["P95ms"] == ".status.promoted.p95Ms"
    assert columns["Cost/1M"] == ".status.promoted.costPer1M"
    assert columns["Age"] == ".metadata.creationTimestamp"


def test_constraints_travel_into_the_schema():
    spec = crd.openapi_schema()["properties"]["spec"]["properties"]
    assert spec["labels"]["minItems"] == 2 and spec["labels"]["maxItems"] == 1000
    assert spec["labels"]["x-kubernetes-list-type"] == "set"
    assert spec["candidates"]["x-kubernetes-list-map-keys"] == ["name"]
    candidate = spec["candidates"]["items"]
    assert candidate["properties"]["family"]["enum"] == ["encoder", "decoder"]
    assert candidate["properties"]["name"]["pattern"].startswith("^[a-z0-9]")
    tolerance = spec["export"]["properties"]["parityTolerance"]
    assert tolerance["minimum"] == 0 and tolerance["exclusiveMinimum"] is True


def test_cross_field_rules_are_cel_validations():
    schema = crd.openapi_schema()["properties"]["spec"]
    rules = [r["rule"] for _, node in walk(schema) for r in node.get("x-kubernetes-validations", [])]
    assert any("self.method == 'lora'" in r for r in rules)
    assert any("duration(self.tau)" in r for r in rules)
    assert any("bf16" in r for r in rules)
    assert any("evalFraction" in r for r in rules)
    assert any("self.artifacts.startsWith('s3://')" in r for r in rules)


def test_the_file_is_plain_yaml_without_anchors():
    text = (ROOT / "crds" / "classifiermodel.yaml").read_text()
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text)["kind"] == "CustomResourceDefinition"
