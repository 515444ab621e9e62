"""The Argo CD health check of ClassifierModels (gitops/argocd/health-classifiermodel.lua), run by a
real Lua interpreter (lupa) on status samples the operator writes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

lupa = pytest.importorskip("lupa", reason="pip install lupa (the dev extra)")

SCRIPT = ROOT / "gitops" / "argocd" / "health-classifiermodel.lua"
ARGOCD_CM = ROOT / "gitops" / "argocd" / "argocd-cm.yaml"


def health(obj: dict[str, Any]) -> tuple[str, str]:
    """What Argo CD would show: the script sees the object as the global ``obj``."""
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = _lua(runtime, obj)
    result = runtime.execute(SCRIPT.read_text())
    return str(result["status"]), str(result["message"])


def _lua(runtime: Any, value: Any) -> Any:
    """JSON to Lua tables, as Argo CD converts objects (lists are 1-based arrays)."""
    if isinstance(value, dict):
        return runtime.table_from({k: _lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([_lua(runtime, v) for v in value])
    return value


def model(generation: int = 1, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "frontier.dev/v1alpha1",
        "kind": "ClassifierModel",
        "metadata": {"name": "agnews", "generation": generation},
        "spec": {},
    }
    if status:
        body["status"] = status
    return body


def cond(type_: str, status: str, message: str = "") -> dict[str, str]:
    return {"type": type_, "status": status, "reason": "Test", "message": message, "lastTransitionTime": "t"}


def test_a_new_model_without_status_is_progressing():
    assert health(model())[0] == "Progressing"


def test_a_ready_model_is_healthy_and_says_what_it_serves():
    status, message = health(
        model(
            phase="Ready",
            observedGeneration=1,
            conditions=[cond("Ready", "True", "serving agnews"), cond("Degraded", "False")],
            promoted={"version": 3},
        )
    )
    assert status == "Healthy"
    assert message == "v3 promoted: serving agnews"


@pytest.mark.parametrize("phase", ["Pending", "Training", "Benchmarking"])
def test_training_and_benchmarking_are_progressing(phase):
    status, message = health(
        model(phase=phase, observedGeneration=1, conditions=[cond("Training", "True", "2 Jobs running")])
    )
    assert (status, message) == ("Progressing", "2 Jobs running")


def test_a_retraining_model_is_progressing_even_while_an_old_version_serves():
    sample = model(
        phase="Training", observedGeneration=2, conditions=[cond("Ready", "False"), cond("Training", "True")]
    )
    assert health({**sample, "metadata": {"generation": 2}})[0] == "Progressing"


def test_degraded_true_is_degraded_with_its_message():
    sample = model(
        phase="Ready",
        observedGeneration=1,
        conditions=[cond("Ready", "True"), cond("Degraded", "True", "v2 failed its guardrails")],
    )
    assert health(sample) == ("Degraded", "v2 failed its guardrails")


@pytest.mark.parametrize("phase", ["Failed", "Degraded"])
def test_failed_or_degraded_phases_are_degraded(phase):
    assert health(model(phase=phase, observedGeneration=1))[0] == "Degraded"


def test_a_status_older_than_the_spec_is_progressing_whatever_it_says():
    stale = model(generation=3, phase="Ready", observedGeneration=2, conditions=[cond("Ready", "True")])
    assert health(stale) == ("Progressing", "Waiting for the operator to observe generation 3")
    failed = model(generation=3, phase="Failed", observedGeneration=2, conditions=[cond("Degraded", "True")])
    assert health(failed)[0] == "Progressing"


def test_argocd_cm_embeds_the_script_verbatim():
    config = yaml.safe_load(ARGOCD_CM.read_text())
    assert config["data"]["resource.customizations.health.frontier.dev_ClassifierModel"] == SCRIPT.read_text()
