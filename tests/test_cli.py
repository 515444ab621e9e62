"""`frontier validate`, `frontier crd` and `frontier --version` as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import yaml

import frontier
from tests.conftest import ROOT


def frontier_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "frontier.cli", *args], capture_output=True, text=True)


def test_version():
    result = frontier_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"frontier {frontier.__version__}"


def test_validate_accepts_the_quickstart():
    result = frontier_cli("validate", str(ROOT / "examples" / "quickstart.yaml"))
    assert result.returncode == 0, result.stderr
    assert "ok — support-intents: 5 labels, 2 candidate(s) × 2 precision(s)" in result.stdout


def test_validate_exits_1_and_names_every_broken_field(tmp_path, manifest):
    manifest["spec"]["candidates"][0]["lora"] = {"rank": 4}
    manifest["spec"]["promotion"] = {"tau": "0s"}
    manifest["spec"]["dataset"]["trian"] = {"uri": "x.jsonl"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(manifest))
    result = frontier_cli("validate", str(path))
    assert result.returncode == 1
    assert "spec.candidates[0].lora: lora settings apply only to method: lora" in result.stderr
    assert "spec.promotion.tau: tau must be greater than 0" in result.stderr
    assert "spec.dataset.trian: unknown field" in result.stderr
    assert str(path) in result.stderr


def test_validate_reports_unreadable_and_non_yaml_files(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    result = frontier_cli("validate", str(tmp_path / "missing.yaml"), str(broken))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "not valid YAML" in result.stderr


def test_crd_prints_the_generated_definition():
    result = frontier_cli("crd")
    assert result.returncode == 0
    assert yaml.safe_load(result.stdout)["metadata"]["name"] == "classifiermodels.frontier.dev"
