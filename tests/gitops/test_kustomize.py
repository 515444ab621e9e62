"""The GitOps example (gitops/kustomize): the base and the overlay that pins a version are valid
ClassifierModels. The overlay's JSON patch is applied here by a tiny RFC 6902 subset (add, replace,
remove: what the example uses), and by ``kubectl kustomize`` as well when kubectl is installed."""

from __future__ import annotations

import copy
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from frontier import api
from tests.conftest import ROOT

KUSTOMIZE = ROOT / "gitops" / "kustomize"
BASE = KUSTOMIZE / "base"
OVERLAY = KUSTOMIZE / "overlays" / "production"


def json_patch(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    patched = copy.deepcopy(document)
    for operation in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
        target: Any = patched
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if operation["op"] in ("add", "replace"):
            if operation["op"] == "replace":
                assert last in target, f"replace of a missing {operation['path']}"
            target[last] = operation["value"]
        elif operation["op"] == "remove":
            del target[last]
        else:
            raise AssertionError(f"unsupported op {operation['op']}")
    return patched


def overlay() -> dict[str, Any]:
    """The overlay's ClassifierModel, built the way kustomize does for this example."""
    kustomization = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../../base"]
    base_kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (resource,) = base_kustomization["resources"]
    document = yaml.safe_load((BASE / resource).read_text())
    for patch in kustomization["patches"]:
        assert patch["target"]["kind"] == document["kind"] and patch["target"]["name"] == document["metadata"]["name"]
        document = json_patch(document, yaml.safe_load((OVERLAY / patch["path"]).read_text()))
    document["metadata"]["namespace"] = kustomization["namespace"]
    return document


def test_the_base_is_valid_and_only_recommends():
    model = api.load(BASE / "classifiermodel.yaml")
    assert model.spec.promotion.policy == "manual" and model.spec.promotion.pinned_version is None


def test_the_overlay_pins_a_version_and_stays_valid():
    document = overlay()
    model = api.parse(document, "overlay")
    assert model.spec.promotion.pinned_version == 3
    assert model.spec.promotion.policy == "manual"
    assert document["metadata"]["namespace"] == "frontier"


def test_the_pin_patch_is_one_line_to_review():
    (operation,) = yaml.safe_load((OVERLAY / "pin-version.yaml").read_text())
    assert (operation["op"], operation["path"]) == ("add", "/spec/promotion/pinnedVersion")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_kustomize_builds_the_same_manifest():
    built = subprocess.run(
        ["kubectl", "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    # Compared as ClassifierModels: kubectl writes 5e-05, which YAML 1.1 (PyYAML) reads as a string.
    assert api.parse(yaml.safe_load(built), "kustomize") == api.parse(overlay(), "overlay")
