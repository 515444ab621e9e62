"""Session-scoped training runs: each model is trained once and many tests read its artifact."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.trainer.helpers import (
    build_tiny_decoder,
    decoder_candidate,
    manifest,
    minilm_candidate,
    tiny_rows,
    write_jsonl,
)


@dataclass
class Run:
    root: Path
    manifest: Path
    out: Path
    code: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> tuple[int, str, str]:
    from frontier.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["train", *argv])
    return code, stdout.getvalue(), stderr.getvalue()


def dataset_dir(root: Path, per_class: int = 20) -> Path:
    rows = tiny_rows(per_class)
    cut = len(rows) * 3 // 4
    write_jsonl(root / "train.jsonl", rows[:cut])
    write_jsonl(root / "eval.jsonl", rows[cut:])
    return root


@pytest.fixture(scope="session")
def minilm_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """MiniLM fine-tuned for one epoch on 45 texts through the `frontier train` CLI, truncated at the
    data's own length (every training row kept whole, at most 32 tokens)."""
    root = dataset_dir(tmp_path_factory.mktemp("minilm"))
    candidate = minilm_candidate(lengthCoverage=1.0)
    path = manifest(root / "model.yaml", [candidate], export={"precisions": ["fp32", "int8"]})
    out = root / "artifacts" / "minilm"
    code, stdout, stderr = run_cli("--manifest", str(path), "--candidate", "minilm", "--out", str(out))
    return Run(root, path, out, code, stdout, stderr)


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_decoder(tmp_path_factory.mktemp("tiny-qwen3"), [r["text"] for r in tiny_rows(20)])


@pytest.fixture(scope="session")
def decoder_root(tmp_path_factory: pytest.TempPathFactory, tiny_decoder: Path) -> Path:
    root = dataset_dir(tmp_path_factory.mktemp("decoder"))
    # Four epochs: LoRA over a *random* base learns the tiny task slowly; after two, 2 of 6 seeds of the base
    # were still below macro-F1 0.5, after four every seed reached 0.67-0.93.
    manifest(root / "model.yaml", [decoder_candidate(tiny_decoder, epochs=4)],
             export={"precisions": ["fp32", "int8", "bf16"], "int8": {"mode": "static", "calibrationSamples": 16}})
    return root


@pytest.fixture(scope="session")
def decoder_run(decoder_root: Path) -> Run:
    """The tiny Qwen3 with LoRA, four epochs, static int8 and bf16 variants."""
    out = decoder_root / "artifacts" / "uninterrupted"
    code, stdout, stderr = run_cli("--manifest", str(decoder_root / "model.yaml"), "--candidate", "tinyqwen",
                                   "--out", str(out))
    return Run(decoder_root, decoder_root / "model.yaml", out, code, stdout, stderr)

