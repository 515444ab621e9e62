"""A third data set for the precision benchmark: 6 imbalanced classes built from the two shared ones.

AG News's four topics and SST-2's two sentiments in one label set — World, Sports, Business, Sci/Tech,
negative, positive — with classes drawn in unequal numbers (the largest 7.5× the smallest), so a quantized
model must keep both a topic decision (long news sentences) and a sentiment decision (short review phrases,
where a small logit shift flips the answer) on imbalanced priors. No shared data set offline has more than
four classes; this is a built one, and says so.

    .venv/bin/python bench/topics_and_sentiment.py --out /tmp/topics6

Writes ``train.jsonl`` (from AG News train and SST-2 train) and ``test.jsonl`` (from AG News test and the
SST-2 GLUE dev split) under ``--out``; never into the repository. Rows are drawn with a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

DATASETS = Path("/work/shared/datasets")
TRAIN = {"World": 3000, "Sports": 1500, "Business": 800, "Sci/Tech": 400, "negative": 2000, "positive": 1000}
"""Training rows per class (8,700 in all)."""
TEST = {"World": 900, "Sports": 450, "Business": 240, "Sci/Tech": 120, "negative": 428, "positive": 300}
"""Test rows per class, in the training proportions where the source allows (SST-2 dev has 428 negatives)."""


def read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def draw(rows: list[dict[str, str]], counts: dict[str, int], rng: random.Random) -> list[dict[str, str]]:
    picked: list[dict[str, str]] = []
    for label, count in counts.items():
        of_label = [r for r in rows if r["label"] == label]
        if len(of_label) < count:
            raise SystemExit(f"{label}: {len(of_label)} rows, {count} asked")
        picked += rng.sample(of_label, count)
    rng.shuffle(picked)
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/topics6"))
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sources = {
        "train": read(DATASETS / "ag_news/train.jsonl") + read(DATASETS / "sst2/train.jsonl"),
        "test": read(DATASETS / "ag_news/test.jsonl") + read(DATASETS / "sst2/test.jsonl"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for split, counts in (("train", TRAIN), ("test", TEST)):
        rows = draw(sources[split], counts, rng)
        (args.out / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        print(f"{args.out / split}.jsonl: {len(rows)} rows, {counts}")


if __name__ == "__main__":
    main()
