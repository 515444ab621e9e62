"""A spec change retires versions; their unfinished Jobs are cancelled, finished ones stay as history."""

from __future__ import annotations

from typing import Any

from frontier.api.status import ClassifierModelStatus, ModelVersion
from frontier.operator import jobs
from frontier.operator.superseded import superseded_jobs


def job(role: str, generation: int, version: int | None = None, done: bool = False) -> dict[str, Any]:
    labels = {jobs.LABEL_ROLE: role, jobs.LABEL_GENERATION: str(generation)}
    if version is not None:
        labels[jobs.LABEL_VERSION] = str(version)
    status = {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1} if done else {"active": 1}
    return {"metadata": {"labels": labels}, "spec": {"backoffLimit": 1}, "status": status}


def status(*states: tuple[int, int, str]) -> ClassifierModelStatus:
    return ClassifierModelStatus(
        versions=[
            ModelVersion(version=n, candidate="minilm", precision="fp32", spec_generation=g, state=s)  # type: ignore[arg-type]
            for n, g, s in states
        ]
    )


def test_a_running_training_job_of_an_older_generation_is_cancelled() -> None:
    listed = {"m-minilm-g1-train": job("train", 1), "m-minilm-g2-train": job("train", 2)}
    cancel = superseded_jobs(listed, status((1, 1, "Retired"), (2, 2, "Training")), generation=2)
    assert list(cancel) == ["m-minilm-g1-train"]
    assert "generation 1" in cancel["m-minilm-g1-train"] and "generation 2" in cancel["m-minilm-g1-train"]


def test_finished_jobs_are_kept_as_history() -> None:
    listed = {"m-minilm-g1-train": job("train", 1, done=True), "m-v1-bench": job("bench", 1, 1, done=True)}
    assert superseded_jobs(listed, status((1, 1, "Retired"), (2, 2, "Pending")), generation=2) == {}


def test_a_benchmark_of_a_retired_version_is_cancelled_but_not_one_of_the_promoted_version() -> None:
    listed = {"m-v1-bench": job("bench", 1, 1), "m-v2-bench": job("bench", 1, 2)}
    cancel = superseded_jobs(listed, status((1, 1, "Retired"), (2, 1, "Promoted")), generation=2)
    assert list(cancel) == ["m-v1-bench"]


def test_nothing_is_cancelled_while_the_generation_stands() -> None:
    listed = {"m-minilm-g1-train": job("train", 1), "m-v1-bench": job("bench", 1, 1)}
    assert superseded_jobs(listed, status((1, 1, "Benchmarking")), generation=1) == {}
