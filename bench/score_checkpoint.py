"""Score the *last* training checkpoint of a train_agnews.py run on the test split (a diagnostic).

The artifact holds the checkpoint the gap-penalised criterion selected; ``last.pt`` holds the weights at
the end of training. Scoring both on the test split says whether the selection or the model limits the
test macro-F1. The test split is never used to choose anything.

    .venv/bin/python bench/score_checkpoint.py --run bench/out/agnews-mean
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.train_agnews import DATASETS, LABELS, TEST_FILE, read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", type=Path, required=True, help="the --out directory of train_agnews.py")
    parser.add_argument("--dataset", choices=sorted(LABELS), default="ag_news")
    args = parser.parse_args()

    from frontier.api.spec import CandidateSpec
    from frontier.artifact import read_manifest
    from frontier.data.metrics import report
    from frontier.trainer import checkpoint
    from frontier.trainer.batching import encode
    from frontier.trainer.evaluation import torch_logits
    from frontier.trainer.model_source import load_for_training

    manifest = read_manifest(args.run / "artifact")
    labels = manifest.labels
    candidate = CandidateSpec.model_validate(
        {"name": manifest.candidate, "baseModel": manifest.base_model, "pooling": manifest.pooling}
    )
    loaded = load_for_training(candidate, labels)
    state = torch.load(args.run / "checkpoints" / checkpoint.LAST, weights_only=False)
    checkpoint.load_trainable_state(loaded.model, state["model"])
    rows = read_jsonl(DATASETS / args.dataset / TEST_FILE[args.dataset])
    encoded = encode(
        loaded.tokenizer, [r["text"] for r in rows], manifest.max_length, loaded.input_names, manifest.truncation
    )
    truth = np.array([labels.index(r["label"]) for r in rows])
    logits = torch_logits(loaded.model.eval(), encoded, torch.device("cpu"))
    scored = report(truth, logits.argmax(1), labels)
    history = state["history"]
    result = {
        "last_checkpoint": {"step": state["step"], "test_macro_f1": scored["macro_f1"], "rows": len(rows)},
        "history": history,
        "selected_test_macro_f1": json.loads((args.run / "result.json").read_text())["test"]["fp32"]["macro_f1"],
    }
    (args.run / "last_checkpoint.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
