"""The run report shows how sure each number is: intervals in the table, error bars on the plot."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from frontier import api
from frontier.api.status import ClassifierModelStatus, Interval, Metrics, ModelVersion
from frontier.runtime import report

from ..conftest import MINIMAL

pytestmark = pytest.mark.ml  # matplotlib


def test_the_report_shows_intervals_and_a_disturbed_measurement(tmp_path: Path) -> None:
    model = api.parse(copy.deepcopy(MINIMAL))
    metrics = Metrics(
        macro_f1=0.9, accuracy=0.9, p50_ms=5.0, p95_ms=8.0, p99_ms=9.0, throughput_rps=100.0, cost_per_1m=0.3,
        macro_f1_interval=Interval(low=0.88, high=0.92), p50_interval_ms=Interval(low=4.5, high=5.6), disturbed=True,
    )
    status = ClassifierModelStatus(
        versions=[ModelVersion(version=1, candidate="minilm", spec_generation=1, state="Ready", metrics=metrics)]
    )
    page = report.write(model, status, tmp_path).read_text()
    assert "0.9000 [0.8800, 0.9200]" in page and "5.0 [4.5, 5.6]" in page and "disturbed" in page
    assert (tmp_path / "pareto.png").read_bytes()[:4] == b"\x89PNG"
