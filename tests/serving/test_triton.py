"""Serving through the embedded Triton: inference, the benchmark, and promotion of the stable name.

Promotion is ``TritonClient.promote`` (both executors): the stable name is loaded with its version model's
config as an override restricted to ``version_policy`` [N]; no file is written. The swap under load counts
failed requests through promote → rollback → promote (there must be none), and a restarted Triton serves
nothing until the version is promoted again (as the executors do, level-triggered).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from frontier.api.spec import BenchmarkSpec, Pricing, ServingSpec
from frontier.decision import cost
from frontier.serving import loadgen, swap
from frontier.serving.benchmark import benchmark_version
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository
from frontier.serving.server import EmbeddedTriton

pytestmark = [pytest.mark.ml, pytest.mark.triton]

LABELS = ["negative", "neutral", "positive"]


def published(repository_root: Path, name: str, artifact: Path, *versions: int) -> ModelRepository:
    repo = ModelRepository(repository_root, name, ServingSpec(max_batch_size=16, intra_op_threads=1))
    for version in versions:
        repo.publish(artifact, "fp32", version)
    return repo


def test_a_published_version_answers_labels_and_probabilities(
    repository_root: Path, artifact: Path, client: TritonClient
) -> None:
    repo = published(repository_root, "answers", artifact, 1)
    assert client.load_version(repo, 1) == "answers__v1"

    predictions = client.infer("answers__v1", ["what a great day", "this is awful", "a plain fact"])

    assert len(predictions) == 3
    for p in predictions:
        assert p.label in LABELS
        assert len(p.probabilities) == 3
        assert sum(p.probabilities) == pytest.approx(1.0, abs=1e-5)
        assert p.probability == pytest.approx(max(p.probabilities))
        assert p.label == LABELS[p.probabilities.index(max(p.probabilities))]


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        (None, {"LABEL", "PROBABILITY", "PROBABILITIES"}),
        (["LABEL"], {"LABEL"}),
        (["PROBABILITIES"], {"PROBABILITIES"}),
    ],
    ids=["a request naming no outputs gets all", "only the label", "only the probabilities"],
)
def test_a_request_gets_the_outputs_it_names(
    repository_root: Path, artifact: Path, client: TritonClient, asked: list[str] | None, answered: set[str]
) -> None:
    import json
    import urllib.request

    repo = published(repository_root, "outputs", artifact, 1)
    client.load_version(repo, 1)
    body: dict[str, object] = {"inputs": [{"name": "TEXT", "shape": [1, 1], "datatype": "BYTES", "data": ["fine"]}]}
    if asked is not None:
        body["outputs"] = [{"name": name} for name in asked]
    request = urllib.request.Request(
        f"http://{client.url}/v2/models/outputs__v1/infer",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        outputs = json.loads(answer.read())["outputs"]
    assert {o["name"] for o in outputs} == answered


def test_triton_agrees_with_the_trainers_predictions(
    repository_root: Path, artifact: Path, client: TritonClient, eval_set: tuple[list[str], list[int]]
) -> None:
    import json

    repo = published(repository_root, "agrees", artifact, 1)
    client.load_version(repo, 1)
    texts, _ = eval_set
    served = [LABELS.index(p.label) for p in client.infer("agrees__v1", texts)]
    assert served == json.loads((artifact / "predictions.json").read_text())["fp32"]


def test_the_benchmark_measures_quality_latency_throughput_and_cost(
    repository_root: Path,
    artifact: Path,
    client: TritonClient,
    triton: EmbeddedTriton,
    eval_set: tuple[list[str], list[int]],
) -> None:
    repo = published(repository_root, "measured", artifact, 2)
    client.load_version(repo, 2)
    texts, gold = eval_set
    import json

    reference = json.loads((artifact / "predictions.json").read_text())["fp32"]
    spec = BenchmarkSpec(requests=40, warmup_requests=5, concurrency=[1, 4])

    metrics = benchmark_version(triton.http_url, "measured__v2", texts, gold, LABELS, spec, reference=reference)

    assert metrics.errors == 0
    assert metrics.agreement == 1.0  # the served path reproduces the trainer's argmax
    assert 0.0 <= metrics.macro_f1 <= 1.0 and 0.0 <= metrics.accuracy <= 1.0
    assert 0 < metrics.p50_ms <= metrics.p95_ms <= metrics.p99_ms < 5000
    assert metrics.throughput_rps > 1
    assert metrics.concurrency == 1  # occupancy prices the latency at concurrency 1
    assert metrics.cost_per_1m == pytest.approx(cost.occupancy(metrics.p50_ms, cost.CLOUD_RUN_2CPU_2GIB))

    dedicated = BenchmarkSpec(
        requests=40, warmup_requests=0, concurrency=[1, 4], pricing=Pricing(cost_model="dedicated")
    )
    priced = benchmark_version(triton.http_url, "measured__v2", texts, gold, LABELS, dedicated, max_p95_ms=10_000)
    assert priced.concurrency in (1, 4)
    assert priced.cost_per_1m == pytest.approx(
        cost.dedicated(priced.throughput_rps, cost.CLOUD_RUN_2CPU_2GIB), rel=1e-9
    )


def test_promote_and_rollback_switch_what_the_stable_name_serves(
    repository_root: Path, artifact: Path, client: TritonClient
) -> None:
    repo = published(repository_root, "stable", artifact, 1, 2)

    first = swap.promote(client, repo, 1)
    assert (first.version, first.previous) == (1, None)
    assert client.loaded_versions("stable") == [1]
    assert client.infer("stable", ["hello"])[0].label in LABELS

    swap.promote(client, repo, 2)
    assert client.loaded_versions("stable") == [2] and swap.promoted_version(client, repo) == 2
    assert not (repo.root / "stable" / "config.pbtxt").exists()  # the override lives in Triton only

    back = swap.rollback(client, repo, 1)
    assert (back.version, back.previous) == (1, 2)
    assert client.loaded_versions("stable") == [1] and swap.promoted_version(client, repo) == 1


def test_swaps_under_concurrent_load_fail_no_request(
    repository_root: Path, artifact: Path, client: TritonClient, triton: EmbeddedTriton
) -> None:
    repo = published(repository_root, "hammered", artifact, 1, 2)
    swap.promote(client, repo, 1)
    workload = loadgen.prepare(["short text", "a somewhat longer text about a delivery that came late"] * 8)
    stop = threading.Event()
    results: list[loadgen.LoadResult] = []

    def hammer() -> None:
        async def run() -> loadgen.LoadResult:
            flag = asyncio.Event()

            async def watch() -> None:
                while not stop.is_set():
                    await asyncio.sleep(0.02)
                flag.set()

            watcher = asyncio.create_task(watch())
            result = await loadgen.run_load(triton.http_url, "hammered", workload, 8, stop=flag)
            await watcher
            return result

        results.append(asyncio.run(run()))

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        time.sleep(0.5)
        swaps = [swap.promote(client, repo, 2), swap.rollback(client, repo, 1), swap.promote(client, repo, 2)]
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=60)

    (result,) = results
    assert [s.version for s in swaps] == [2, 1, 2]
    assert result.completed > 50
    assert result.errors == 0, result.error_messages


def test_after_a_triton_restart_promotion_serves_the_version_again(artifact: Path, tmp_path: Path) -> None:
    repo = published(tmp_path / "repository", "restarted", artifact, 1, 2)
    with EmbeddedTriton(repo.root, workdir=tmp_path / "triton", startup_timeout_s=120) as server:
        client = TritonClient(server.http_url)
        swap.promote(client, repo, 2)
        assert client.served_version("restarted") == 2

        server.stop()
        # New ports: the old HTTP port has TIME_WAIT sockets for a minute, which EmbeddedTriton's free-port
        # check refuses (a restart in a cluster keeps its Service address; the client does not care).
        server.http_port = server.grpc_port = server.metrics_port = None
        server.start()
        client = TritonClient(server.http_url)
        assert client.served_version("restarted") is None  # explicit mode: a restarted Triton loads nothing
        assert not client.model_ready("restarted__v2")

        # What the operator does, with no access to the repository: load restarted__v2, then the override.
        again = client.promote("restarted", 2)

        assert (again.version, again.previous) == (2, None)
        assert client.loaded_versions("restarted") == [2] and client.loaded_versions("restarted__v2") == [2]
        assert client.infer("restarted", ["hello"])[0].label in LABELS
