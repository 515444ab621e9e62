"""The whole loop with nothing faked but the kubelet: real Jobs' commands, a real Triton, a real API server.

The operator runs against envtest as in ``test_operator.py``; the stand-in Job controller runs in
*execute* mode: every Job it sees is run on this machine from its own container command
(``workload.LocalWorkload``: ``frontier train`` fine-tunes and exports MiniLM-L6, ``frontier bench``
publishes each precision into the model repository of an ``EmbeddedTriton``, loads it and measures it
through Triton), and each workload reports its result into its result ConfigMap itself. The operator then
decides from the measured metrics and promotes through Triton's repository API, so the stable model name
ends up serving the promoted version on the real server.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from frontier.operator.settings import OperatorSettings
from frontier.serving.client import TritonClient
from frontier.serving.server import EmbeddedTriton, port_is_free

from . import manifests
from .cluster import EnvtestCluster
from .standin import JobController, RunningOperator, bench_job, train_job, wait_for
from .workload import LocalWorkload

pytestmark = [pytest.mark.ml, pytest.mark.triton, pytest.mark.slow, pytest.mark.timeout(420)]

LABELS = ["sports", "tech", "food"]
WORDS = {
    "sports": ["football", "goal", "match", "team", "coach", "league"],
    "tech": ["software", "chip", "computer", "startup", "robot", "cloud"],
    "food": ["pasta", "recipe", "chef", "bread", "cheese", "soup"],
}
FILLER = ["the", "a", "today", "new", "big", "local"]
MODEL_NAME = "topics"


def rows(count: int, offset: int = 0) -> list[dict[str, str]]:
    """``count`` short texts per label whose label is carried by a keyword, interleaved by label."""
    out = []
    for i in range(offset, offset + count):
        for label in LABELS:
            words = WORDS[label]
            out.append(
                {
                    "text": f"{FILLER[i % 6]} {words[i % 6]} {FILLER[(i + 2) % 6]} {words[(i + 3) % 6]} {i}",
                    "label": label,
                }
            )
    return out


def write_jsonl(path: Path, records: list[dict[str, str]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


NAME = "news-topics"


@dataclass
class Run:
    """One ClassifierModel driven to Ready by real Jobs; the tests below read what it left behind."""

    cluster: EnvtestCluster
    namespace: str
    root: Path
    model_repository: Path
    triton: EmbeddedTriton
    workload: LocalWorkload
    jobs: JobController
    model: dict[str, Any]

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.model["status"])

    @property
    def versions(self) -> dict[int, dict[str, Any]]:
        return {v["version"]: v for v in self.status["versions"]}

    @property
    def promoted(self) -> int:
        return int(self.status["promoted"]["version"])


def classifier(root: Path, model_repository: Path, triton: EmbeddedTriton) -> dict[str, Any]:
    """One MiniLM candidate, tiny data, every path on this machine, served by the embedded Triton."""
    data = root / "data"
    data.mkdir()
    manifest = manifests.valid(
        NAME,
        labels=LABELS,
        dataset={
            "train": {"uri": write_jsonl(data / "train.jsonl", rows(12))},
            "eval": {"uri": write_jsonl(data / "eval.jsonl", rows(4, offset=12))},
        },
        export={"precisions": ["fp32", "int8"]},
        benchmark={"requests": 30, "warmupRequests": 4, "concurrency": [1, 4]},
        serving={
            "modelName": MODEL_NAME,
            "endpoint": f"http://{triton.http_url}",
            "modelRepository": str(model_repository),
        },
        storage={"artifacts": str(root / "artifacts")},
    )
    manifest["spec"]["candidates"][0]["hyperparameters"] = {
        "epochs": 1,
        "maxLength": 16,
        "batchSize": 16,
        "learningRate": 1e-4,
    }
    return manifest


@pytest.fixture(scope="module")
def run(cluster: EnvtestCluster, crd: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Apply the manifest and play every Job it leads to, for real, until the model is Ready."""
    root = tmp_path_factory.mktemp("real-jobs")
    namespace = "real-jobs"
    cluster.ensure_namespace(namespace)
    model_repository = root / "models"
    model_repository.mkdir()
    settings = OperatorSettings(
        namespaces=(namespace,),
        kubeconfig=str(cluster.kubeconfig),
        resync_s=2.0,
        liveness=None,
        metrics_port=None,
        worker_image="frontier-worker:test",
    )
    workload = LocalWorkload(cluster, root / "pods", timeout_s=240)
    jobs = JobController(cluster, namespace)
    with (
        EmbeddedTriton(model_repository, workdir=root / "triton", startup_timeout_s=120) as triton,
        RunningOperator(settings),
    ):
        cluster.request("POST", manifests.path(namespace), classifier(root, model_repository, triton))
        model = run_jobs_until_ready(cluster, namespace, NAME, jobs, workload)
        yield Run(cluster, namespace, root, model_repository, triton, workload, jobs, model)


def condition(model: dict[str, Any], type_: str) -> dict[str, Any]:
    conditions = (model.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c["type"] == type_), {})


def run_jobs_until_ready(
    cluster: EnvtestCluster, namespace: str, name: str, jobs: JobController, workload: LocalWorkload
) -> dict[str, Any]:
    """Execute every Job the operator creates, one at a time, until the model is Ready: every version
    measured and one promoted. Degraded on the way fails at once, with the Jobs' logs."""

    def step() -> dict[str, Any] | None:
        jobs.execute_all(workload)
        model = cluster.request("GET", manifests.path(namespace, name))
        assert condition(model, "Degraded").get("status") != "True", (
            f"{condition(model, 'Degraded')}\n{workload.report()}"
        )
        return model if condition(model, "Ready").get("status") == "True" else None

    return dict(wait_for(step, timeout=300, interval=0.5, what=f"{name} Ready"))


# --------------------------------------------------------------------------------------- tests


def test_every_job_runs_its_own_container_command_and_reports_its_own_result(run: Run) -> None:
    ran = {o.job: o.returncode for o in run.workload.outcomes}
    train_name = train_job(run.cluster, run.namespace, NAME)
    bench_name = bench_job(run.cluster, run.namespace, NAME, 1)  # both versions, measured together
    assert ran == {train_name: 0, bench_name: 0}, run.workload.report()
    train = next(o for o in run.workload.outcomes if o.job.endswith("-train"))
    assert train.argv[1:4] == ["-m", "frontier.cli", "train"]
    manifest = Path(train.argv[train.argv.index("--manifest") + 1])  # the mounted ConfigMap, copied locally
    assert manifest.is_file() and f"name: {NAME}" in manifest.read_text()

    for name, job in run.jobs.jobs().items():
        complete = next(c for c in job["status"]["conditions"] if c["type"] == "Complete")
        assert complete["status"] == "True" and job["status"]["succeeded"] == 1, name

    # `frontier train` wrote its result ConfigMap itself (through the kubeconfig): the artifact on disk.
    configmap = run.cluster.request("GET", f"/api/v1/namespaces/{run.namespace}/configmaps/{train_name}")
    artifact = json.loads(configmap["data"]["result.json"])["artifact"]
    directory = Path(artifact["uri"].removeprefix("file://"))
    assert directory.is_relative_to(run.root / "artifacts")
    assert artifact["sha256"] == hashlib.sha256((directory / "manifest.json").read_bytes()).hexdigest()
    assert run.versions[1]["artifact"] == artifact


def test_the_status_carries_the_measured_metrics_of_every_version(run: Run) -> None:
    status = run.status
    assert {(v["candidate"], v["precision"]) for v in run.versions.values()} == {("minilm", "fp32"), ("minilm", "int8")}
    for version in run.versions.values():
        metrics = version["metrics"]
        assert 0.0 <= metrics["macroF1"] <= 1.0
        assert metrics["p50Ms"] > 0 and metrics["costPer1M"] > 0 and metrics["throughputRps"] > 0
        assert metrics["errors"] == 0
    assert run.versions[run.promoted]["state"] == "Promoted"
    assert status["promoted"]["macroF1"] == run.versions[run.promoted]["metrics"]["macroF1"]
    assert status["decision"]["action"] == "promote"
    assert "Triton not called" not in status["decision"]["message"]
    assert status["phase"] == "Ready"
    assert condition(run.model, "Promoted")["status"] == "True"
    assert condition(run.model, "Benchmarked")["status"] == "True"
    assert condition(run.model, "Degraded")["status"] == "False"


def test_the_printer_columns_show_the_promoted_version(run: Run) -> None:
    table = run.cluster.request(
        "GET", manifests.path(run.namespace), headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"}
    )
    columns = [c["name"] for c in table["columnDefinitions"]]
    row = dict(zip(columns, table["rows"][0]["cells"], strict=True))
    promoted = run.status["promoted"]
    assert row["Phase"] == "Ready" and row["Promoted"] == run.promoted and row["Candidate"] == "minilm"
    assert row["Precision"] == promoted["precision"]
    assert row["MacroF1"] == pytest.approx(promoted["macroF1"])
    assert row["P95ms"] == pytest.approx(promoted["p95Ms"])
    assert row["Cost/1M"] == pytest.approx(promoted["costPer1M"])


def test_the_stable_name_on_triton_serves_exactly_the_promoted_version(run: Run) -> None:
    client = TritonClient(run.triton.http_url)
    wait_for(lambda: client.loaded_versions(MODEL_NAME) == [run.promoted], timeout=30, what="the stable name")
    texts = ["the football match today", "a new computer chip", "bread and soup"]
    stable = client.infer(MODEL_NAME, texts)
    assert [p.label in LABELS and 0.0 < p.probability <= 1.0 for p in stable] == [True] * 3
    own = client.infer(f"{MODEL_NAME}__v{run.promoted}", texts)  # the version's own model, as benchmarked
    assert [p.label for p in stable] == [p.label for p in own]
    for served, benchmarked in zip(stable, own, strict=True):
        assert served.probabilities == pytest.approx(benchmarked.probabilities, abs=1e-6)
    assert client.loaded_versions(MODEL_NAME) == [run.promoted]
    # ModelRepository.publish linked <m>/N for every version; the stable config selects only the promoted one.
    for number in run.versions:
        link = run.model_repository / MODEL_NAME / str(number)
        assert link.is_symlink() and link.readlink() == Path("..") / f"{MODEL_NAME}__v{number}" / str(number)


def test_a_restarted_triton_serves_the_promoted_version_again_and_ready_says_when_it_does_not(run: Run) -> None:
    """Explicit model control: a restarted Triton serves nothing until the operator loads the promoted
    version again, which it does on its own (level-triggered); meanwhile Ready is False and says why."""
    resync_s = 2.0
    run.triton.stop()

    def unavailable() -> dict[str, Any] | None:
        model = get(run)
        return model if condition(model, "Ready").get("reason") == "TritonUnavailable" else None

    down = wait_for(unavailable, timeout=4 * resync_s, what="Ready=False (TritonUnavailable) while Triton is down")
    assert condition(down, "Ready")["status"] == "False"

    ports = (run.triton.http_port, run.triton.grpc_port, run.triton.metrics_port)
    wait_for(lambda: all(port_is_free(p) for p in ports if p), timeout=60, interval=0.5, what="Triton's ports free")
    run.triton.start()  # same ports, an empty server
    back = time.monotonic()
    client = TritonClient(run.triton.http_url)
    wait_for(lambda: client.loaded_versions(MODEL_NAME) == [run.promoted], timeout=2 * resync_s + 30, interval=0.2,
             what="the stable name served again")
    print(f"stable name served again {time.monotonic() - back:.1f} s after Triton was back (resync {resync_s} s)")
    wait_for(lambda: condition(get(run), "Ready").get("status") == "True", timeout=4 * resync_s, what="Ready")
    answers = [client.infer(MODEL_NAME, ["the football match today"])[0] for _ in range(30)]
    assert all(a.label in LABELS for a in answers)  # zero failed requests once it is back


def get(run: Run) -> dict[str, Any]:
    return run.cluster.request("GET", manifests.path(run.namespace, NAME))
