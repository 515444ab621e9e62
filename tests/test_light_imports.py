"""The operator and the API stay light: importing them never pulls torch, transformers or onnxruntime."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "peft", "onnxruntime", "onnx", "tritonclient")


# What the operator process loads (``frontier operator`` → entry.operate → handlers → reconcile, jobs, ...),
# the neutral modules the workloads share with it, and the verbs' modules.
LIGHT = [
    "frontier",
    "frontier.api",
    "frontier.api.crd",
    "frontier.decision.lifecycle",
    "frontier.operator.handlers",
    "frontier.operator.reconcile",
    "frontier.operator.jobs",
    "frontier.results",
    "frontier.data.evaluation",
    "frontier.serving.entry",
    "frontier.baselines.entry",
    "frontier.baselines.measurement",
    "frontier.cli",
]


@pytest.mark.parametrize("module", LIGHT)
def test_importing_stays_free_of_ml_libraries(module: str) -> None:
    code = f"import sys, {module}\nheavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\nprint(','.join(heavy))\n"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing {module} loaded {loaded}"


def test_validate_and_crd_verbs_run_without_ml_libraries(tmp_path):
    code = (
        "import sys\nfrom frontier import cli\n"
        "assert cli.main(['crd', '-o', sys.argv[1]]) == 0\n"
        f"assert not [m for m in {HEAVY!r} if m in sys.modules]\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "crd.yaml")], check=True)
    assert (tmp_path / "crd.yaml").read_text().count("ClassifierModel") >= 1
