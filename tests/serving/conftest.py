"""Shared fixtures of the serving tests: one exported MiniLM artifact and one embedded Triton per session.

Each test publishes under its own model name, so tests share the server without sharing state.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from minilm_artifact import export_minilm_artifact

from frontier.serving.client import TritonClient
from frontier.serving.server import EmbeddedTriton

LABELS = ("negative", "neutral", "positive")
EVAL = [
    ("I love this, it works perfectly", "positive"),
    ("Terrible service, never again", "negative"),
    ("The package arrived on Tuesday", "neutral"),
    ("Absolutely fantastic experience", "positive"),
    ("It broke after one day", "negative"),
    ("The manual has twelve pages", "neutral"),
    ("Great value and fast shipping", "positive"),
    ("Worst purchase I have made", "negative"),
] * 4


@pytest.fixture(scope="session")
def eval_set() -> tuple[list[str], list[int]]:
    return [t for t, _ in EVAL], [LABELS.index(label) for _, label in EVAL]


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory, eval_set: tuple[list[str], list[int]]) -> Path:
    """A complete fp32 artifact of MiniLM-L6 with a fresh 3-label head (predictions.json on ``eval_set``)."""
    return export_minilm_artifact(tmp_path_factory.mktemp("artifact") / "minilm", LABELS, eval_texts=eval_set[0])


@pytest.fixture(scope="session")
def repository_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-repository")


@pytest.fixture(scope="session")
def triton(repository_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedTriton]:
    with EmbeddedTriton(repository_root, workdir=tmp_path_factory.mktemp("triton"), startup_timeout_s=120) as server:
        yield server


@pytest.fixture(scope="session")
def client(triton: EmbeddedTriton) -> TritonClient:
    return TritonClient(triton.http_url)
