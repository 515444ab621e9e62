"""The generated CRD against the real API server: accepted as structural, every example accepted,
every broken rule refused server-side (422) with the field named, printer columns served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from frontier.api import KIND, PLURAL

from . import manifests
from .cluster import ApiError, EnvtestCluster
from .conftest import REPO


def _examples() -> list[Path]:
    found = sorted((REPO / "examples").glob("*.yaml")) + sorted((REPO / "frontier" / "examples").glob("**/*.yaml"))
    out = []
    for file in found:
        docs = [d for d in yaml.safe_load_all(file.read_text()) if isinstance(d, dict)]
        if any(d.get("kind") == KIND for d in docs):
            out.append(file)
    return out


def test_crd_is_structural_and_established(crd: dict[str, Any]) -> None:
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    assert conditions["NamesAccepted"] == "True"
    assert conditions.get("NonStructuralSchema", "False") == "False"
    assert crd["status"]["acceptedNames"]["shortNames"] == ["clm"]


def test_base_manifest_is_accepted(cluster: EnvtestCluster, crd: dict[str, Any], namespace: str) -> None:
    created = cluster.request("POST", manifests.path(namespace) + "?fieldValidation=Strict", manifests.valid("base"))
    # scalar defaults from the pydantic models are applied by the server
    assert created["spec"]["candidates"][0]["method"] == "full"
    assert created["spec"]["candidates"][0]["hyperparameters"]["learningRate"] == 5e-5


@pytest.mark.parametrize("example", _examples() or [None], ids=lambda p: p.name if p else "none")
def test_examples_are_accepted(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, example: Path | None
) -> None:
    if example is None:
        pytest.skip("no ClassifierModel manifests in examples/ yet")
    for document in yaml.safe_load_all(example.read_text()):
        if not isinstance(document, dict) or document.get("kind") != KIND:
            continue
        document.setdefault("metadata", {}).pop("namespace", None)
        created = cluster.request("POST", manifests.path(namespace) + "?fieldValidation=Strict", document)
        assert created["metadata"]["uid"]


def _lora_on_full(m: dict[str, Any]) -> None:
    m["spec"]["candidates"][0]["lora"] = {"rank": 8}


def _unknown(m: dict[str, Any]) -> None:
    m["spec"]["candidates"][0]["learningRate"] = 0.1


def _duplicate_candidate(m: dict[str, Any]) -> None:
    m["spec"]["candidates"].append(dict(m["spec"]["candidates"][0]))


def _duplicate_label(m: dict[str, Any]) -> None:
    m["spec"]["labels"] = ["negative", "positive", "negative"]


def _tau_zero(m: dict[str, Any]) -> None:
    m["spec"]["promotion"] = {"tau": "0ms"}


def _bf16_onnxruntime(m: dict[str, Any]) -> None:
    m["spec"]["export"]["precisions"] = ["fp32", "bf16"]
    m["spec"]["serving"] = {"backend": "onnxruntime"}


def _eval_fraction_with_eval(m: dict[str, Any]) -> None:
    m["spec"]["dataset"]["eval"] = {"uri": "pkg://frontier-demo/eval.jsonl"}


def _mean_pooling_on_lora(m: dict[str, Any]) -> None:
    m["spec"]["candidates"][0].update(family="decoder", method="lora", pooling="mean")


def _s3_artifacts(m: dict[str, Any]) -> None:
    m["spec"]["storage"] = {"artifacts": "s3://models/artifacts"}


def _max_test_samples_without_test(m: dict[str, Any]) -> None:
    m["spec"]["dataset"]["maxTestSamples"] = 100


def _short_time_budget(m: dict[str, Any]) -> None:
    m["spec"]["candidates"][0]["hyperparameters"] = {"timeBudget": "5s"}


def _baseline_without_price(m: dict[str, Any]) -> None:
    m["spec"]["baselines"] = [{"name": "gpt-4o", "declared": {"macroF1": 0.9, "source": "a paper"}}]


def _bad_name_pattern(m: dict[str, Any]) -> None:
    m["spec"]["candidates"][0]["name"] = "Not_A_Label"


INVALID = {
    # case: (mutation, the field the server must name, words of the message)
    # Strict field validation refuses unknown fields while decoding, before validation: the API
    # server answers 400 BadRequest ("strict decoding error"), not 422 (see test below).
    "unknown-field": (_unknown, "spec.candidates[0].learningRate", 'unknown field "spec.candidates[0].learningRate"'),
    "duplicate-candidate": (_duplicate_candidate, "spec.candidates[1]", "Duplicate value"),
    "duplicate-label": (_duplicate_label, "spec.labels[2]", "Duplicate value"),
    "lora-on-full": (_lora_on_full, "spec.candidates[0].lora", "lora settings apply only to method: lora"),
    "mean-pooling-on-lora": (_mean_pooling_on_lora, "spec.candidates[0].pooling", "applies to fully fine-tuned"),
    "tau-zero": (_tau_zero, "spec.promotion.tau", "tau must be greater than 0"),
    "bf16-onnxruntime": (_bf16_onnxruntime, "spec.export.precisions", "bf16 versions are served by the python backend"),
    "evalfraction-with-eval": (_eval_fraction_with_eval, "spec.dataset.evalFraction", "evalFraction applies only"),
    "maxtestsamples-without-test": (
        _max_test_samples_without_test,
        "spec.dataset.maxTestSamples",
        "maxTestSamples applies only when a test source is given",
    ),
    "short-time-budget": (
        _short_time_budget,
        "spec.candidates[0].hyperparameters.timeBudget",
        "timeBudget must be at least 10s",
    ),
    "baseline-without-price": (
        _baseline_without_price,
        "spec.baselines[0].declared.costPer1M",
        "declare costPer1M, or inputTokens, outputTokens and their prices per 1M tokens",
    ),
    "candidate-name-pattern": (_bad_name_pattern, "spec.candidates[0].name", "should match"),
    "s3-artifacts": (_s3_artifacts, "spec.storage.artifacts", "s3:// artifacts are not supported yet"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_manifest_is_rejected(cluster: EnvtestCluster, crd: dict[str, Any], namespace: str, case: str) -> None:
    mutate, field, words = INVALID[case]
    manifest = manifests.valid(f"bad-{case}")
    mutate(manifest)
    with pytest.raises(ApiError) as caught:
        cluster.request("POST", manifests.path(namespace) + "?fieldValidation=Strict", manifest)
    error = caught.value
    assert error.status == (400 if case == "unknown-field" else 422), error.body
    assert error.body["reason"] == ("BadRequest" if case == "unknown-field" else "Invalid")
    assert field in error.message and words in error.message, error.message
    assert any(field == c.get("field") for c in error.causes) or field in error.message


def test_unknown_field_without_strict_validation_is_pruned_with_a_warning(
    cluster: EnvtestCluster, crd: dict[str, Any], namespace: str
) -> None:
    manifest = manifests.valid("pruned")
    _unknown(manifest)
    status, _ = cluster.raw("POST", manifests.path(namespace) + "?fieldValidation=Warn", manifest)
    assert status == 201
    stored = cluster.request("GET", manifests.path(namespace, "pruned"))
    assert "learningRate" not in stored["spec"]["candidates"][0]


def test_printer_columns_via_table_api(cluster: EnvtestCluster, crd: dict[str, Any], namespace: str) -> None:
    cluster.request("POST", manifests.path(namespace), manifests.valid("shown"))
    table = cluster.request(
        "GET", manifests.path(namespace), headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"}
    )
    assert table["kind"] == "Table"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:1] == ["Name"]
    for column in ("Phase", "Promoted", "MacroF1", "P95ms", "Cost/1M", "Age", "Candidate", "Utility"):
        assert column in names
    assert [row["object"]["metadata"]["name"] for row in table["rows"]] == ["shown"]
    assert table["rows"][0]["cells"][0] == "shown"


def test_plural_and_short_name_resolve(cluster: EnvtestCluster, crd: dict[str, Any]) -> None:
    resources = cluster.request("GET", f"/apis/{manifests.GROUP_VERSION}")
    entry = next(r for r in resources["resources"] if r["name"] == PLURAL)
    assert entry["shortNames"] == ["clm"]
    assert "frontier" in entry["categories"]
    assert any(r["name"] == f"{PLURAL}/status" for r in resources["resources"])
