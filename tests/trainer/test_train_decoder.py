"""A LoRA-tuned decoder (a tiny Qwen3 built here, no Hub): merged, exported, quantized and resumable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from frontier.api.resource import load
from frontier.artifact import read_manifest, verify
from frontier.errors import TrainingError
from frontier.trainer.loop import TrainingInterrupted
from frontier.trainer.pipeline import RunOptions, train_candidate
from tests.trainer.conftest import Run, run_cli
from tests.trainer.helpers import decoder_candidate, manifest

pytestmark = pytest.mark.ml


def test_the_lora_decoder_artifact_verifies(decoder_run: Run) -> None:
    assert decoder_run.code == 0, decoder_run.stderr
    manifest = verify(decoder_run.out)
    assert (manifest.family, manifest.method) == ("decoder", "lora")
    assert manifest.hyperparameters["lora"] == {"rank": 4, "alpha": 8.0, "dropout": 0.0}
    assert set(manifest.precisions) == {"fp32", "int8", "bf16"}
    assert "peft" in manifest.libraries


def test_the_exported_decoder_is_a_plain_merged_classifier(decoder_run: Run) -> None:
    import onnx

    graph = onnx.load(str(decoder_run.out / "model.fp32.onnx")).graph
    assert [i.name for i in graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in graph.output] == ["logits"]
    assert not [i.name for i in graph.initializer if "lora" in i.name.lower()]  # LoRA merged away
    dims = [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "sequence"]


def test_the_decoder_logits_match_onnx_on_right_padded_batches(decoder_run: Run) -> None:
    manifest = read_manifest(decoder_run.out)
    assert manifest.precisions["fp32"].max_abs_logit_delta is not None
    assert manifest.precisions["fp32"].max_abs_logit_delta <= 1e-3
    import onnxruntime as ort
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(decoder_run.out / "tokenizer"))
    assert tokenizer.pad_token == "<eos>"  # set from eos: the tokenizer had none
    session = ort.InferenceSession(str(decoder_run.out / "model.fp32.onnx"), providers=["CPUExecutionProvider"])
    texts = ["the football new goal news", "chip"]
    padded = tokenizer(texts, padding=True, return_tensors="np")
    one_by_one = [session.run(["logits"], {k: v.astype(np.int64) for k, v in
                                          tokenizer([t], return_tensors="np").items()})[0][0] for t in texts]
    batched = session.run(["logits"], {k: v.astype(np.int64) for k, v in padded.items()})[0]
    np.testing.assert_allclose(batched, np.stack(one_by_one), atol=1e-4)


def test_static_int8_and_bf16_variants_are_scored_against_fp32(decoder_run: Run) -> None:
    manifest = read_manifest(decoder_run.out)
    int8, bf16 = manifest.precisions["int8"], manifest.precisions["bf16"]
    assert int8.method is not None and "static" in int8.method and "16 calibration rows" in int8.method
    assert bf16.method is not None and "bf16 weights" in bf16.method and "fp32 compute" in bf16.method
    for entry in (int8, bf16):
        assert entry.agreement is not None and entry.max_abs_logit_delta is not None
        assert entry.macro_f1 is not None and entry.accuracy is not None
    assert bf16.max_abs_logit_delta is not None and bf16.max_abs_logit_delta < 0.1
    predictions = json.loads((decoder_run.out / "predictions.json").read_text())
    assert set(predictions) == {"fp32", "int8", "bf16"}


def test_the_bf16_model_stores_bfloat16_weights(decoder_run: Run) -> None:
    import onnx

    model = onnx.load(str(decoder_run.out / "model.bf16.onnx"))
    types = {i.data_type for i in model.graph.initializer if np.prod(i.dims) >= 16}
    assert types == {onnx.TensorProto.BFLOAT16}


def test_training_learns_the_tiny_task(decoder_run: Run) -> None:
    metrics = json.loads((decoder_run.out / "metrics.json").read_text())
    assert len(metrics["checkpoints"]) == 4  # one per epoch
    assert metrics["summary"]["macro_f1"] > 0.5  # 3 classes: chance is ~0.33


def test_a_preempted_run_resumes_where_it_stopped(decoder_run: Run) -> None:
    """Stop after 3 optimizer steps (epoch 1 has 6), resume, and land exactly where an uninterrupted run does."""
    model = load(decoder_run.manifest)
    out = decoder_run.root / "artifacts" / "resumed"
    options = RunOptions(stop_after_steps=3)
    with pytest.raises(TrainingInterrupted, match="stopped after 3 steps"):
        train_candidate(model, "tinyqwen", out, data_root=decoder_run.root, options=options)
    assert not out.exists()
    assert (out.parent / "resumed.checkpoints" / "last.pt").is_file()
    train_candidate(model, "tinyqwen", out, data_root=decoder_run.root, options=RunOptions(resume=True))
    resumed = json.loads((out / "metrics.json").read_text())
    straight = json.loads((decoder_run.out / "metrics.json").read_text())
    assert resumed["training"]["resumed_from_step"] == 3
    assert resumed["training"]["steps"] == straight["training"]["steps"]
    assert [c["step"] for c in resumed["checkpoints"]] == [c["step"] for c in straight["checkpoints"]]
    assert [c["eval_macro_f1"] for c in resumed["checkpoints"]] == [c["eval_macro_f1"] for c in straight["checkpoints"]]
    assert json.loads((out / "predictions.json").read_text()) == json.loads(
        (decoder_run.out / "predictions.json").read_text())


def test_the_cli_resumes_with_resume_and_an_explicit_checkpoint_dir(decoder_run: Run, tmp_path: Path) -> None:
    args = ["--manifest", str(decoder_run.manifest), "--candidate", "tinyqwen", "--out", str(tmp_path / "a"),
            "--checkpoint-dir", str(tmp_path / "ckpt")]
    code, _, stderr = run_cli(*args, "--stop-after-steps", "7")
    assert code == 1 and "resume with --resume" in stderr
    code, _stdout, stderr = run_cli(*args, "--resume")
    assert code == 0, stderr
    assert "resumed from step 7 (epoch 2, 1 batches done)" in stderr


def test_a_checkpoint_of_another_spec_is_not_resumed(decoder_run: Run, tiny_decoder: Path, tmp_path: Path) -> None:
    # A published run removes its checkpoints: make one as a preempted run leaves it, then change the spec.
    with pytest.raises(TrainingInterrupted):
        train_candidate(load(decoder_run.manifest), "tinyqwen", tmp_path / "first", data_root=decoder_run.root,
                        options=RunOptions(stop_after_steps=2, checkpoint_dir=tmp_path / "ckpt"))
    other = manifest(tmp_path / "other.yaml", [decoder_candidate(tiny_decoder, learningRate=1e-3)],
                     dataset={"train": {"uri": str(decoder_run.root / "train.jsonl")},
                              "eval": {"uri": str(decoder_run.root / "eval.jsonl")}})
    with pytest.raises(TrainingError, match="belongs to a different spec or data"):
        train_candidate(load(other), "tinyqwen", tmp_path / "out",
                        options=RunOptions(resume=True, checkpoint_dir=tmp_path / "ckpt"))


def test_a_parity_failure_leaves_no_artifact(decoder_root: Path, tiny_decoder: Path, tmp_path: Path) -> None:
    path = manifest(tmp_path / "strict.yaml", [decoder_candidate(tiny_decoder, epochs=1)],
                    dataset={"train": {"uri": str(decoder_root / "train.jsonl")},
                             "eval": {"uri": str(decoder_root / "eval.jsonl")}},
                    export={"parityTolerance": 1e-12, "paritySamples": 8})
    out = tmp_path / "artifacts" / "strict"
    code, stdout, stderr = run_cli("--manifest", str(path), "--candidate", "tinyqwen", "--out", str(out))
    assert code == 1 and stdout == ""
    assert "ONNX parity failed on 8 eval samples" in stderr and "export.parityTolerance 1e-12" in stderr
    assert "sample " in stderr and "|Δlogit|" in stderr
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir()] == ["strict.checkpoints"]  # no partial-<pid> left


def test_resume_without_a_checkpoint_starts_afresh(decoder_root: Path, tiny_decoder: Path, tmp_path: Path) -> None:
    # The operator's training Job always passes --resume: its first attempt finds no checkpoint and trains.
    path = manifest(tmp_path / "m.yaml", [decoder_candidate(tiny_decoder, epochs=1)],
                    dataset={"train": {"uri": str(decoder_root / "train.jsonl")},
                             "eval": {"uri": str(decoder_root / "eval.jsonl")}},
                    export={"precisions": ["fp32"]})
    out, checkpoints = tmp_path / "artifacts" / "first", tmp_path / "artifacts" / "first.checkpoints"
    code, _, stderr = run_cli("--manifest", str(path), "--candidate", "tinyqwen", "--out", str(out),
                              "--checkpoint-dir", str(checkpoints), "--resume")
    assert code == 0, stderr
    assert "resumed from" not in stderr
    assert json.loads((out / "metrics.json").read_text())["training"]["resumed_from_step"] is None
    assert not checkpoints.exists()  # published: the checkpoints are no way back to anything, only disk
