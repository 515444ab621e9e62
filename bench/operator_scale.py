"""Operator at scale on a real kube-apiserver: N ClassifierModels × K candidates, Jobs finished by a stand-in.

Measures the reconcile latency apply → first Job (per model), the time until every model is Promoted,
and the operator process's CPU time and peak RSS. The operator runs as ``frontier operator`` in its own
process (so its CPU and memory are its own); this script plays the Job controller.

    .venv/bin/python bench/operator_scale.py --models 100 --candidates 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.envtest import manifests
from tests.envtest.cluster import EnvtestCluster
from tests.envtest.standin import JobController

NAMESPACE = "scale"


def measured(job: dict) -> dict:
    return {
        "macroF1": 0.9,
        "accuracy": 0.9,
        "p50Ms": 10.0,
        "p95Ms": 20.0,
        "p99Ms": 30.0,
        "throughputRps": 100.0,
        "costPer1M": 0.5,
        "agreement": 1.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--candidates", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    cluster = EnvtestCluster.create().start()
    operator = None
    try:
        cluster.apply_crd(yaml.safe_load((Path(__file__).parents[1] / "crds" / "classifiermodel.yaml").read_text()))
        cluster.ensure_namespace(NAMESPACE)
        operator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "frontier.cli",
                "operator",
                "--kubeconfig",
                str(cluster.kubeconfig),
                "-n",
                NAMESPACE,
                "--liveness",
                "http://127.0.0.1:0/healthz",
                "--metrics-port",
                "0",
                "--resync-s",
                "30",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        proc = psutil.Process(operator.pid)
        time.sleep(3)
        controller = JobController(cluster, NAMESPACE)
        names = [f"m{i:03d}" for i in range(args.models)]
        candidates = tuple(f"c{j}" for j in range(args.candidates))
        applied: dict[str, float] = {}
        first_job: dict[str, float] = {}
        started = time.monotonic()
        peak_rss = 0
        for name in names:
            manifest = manifests.valid(name, candidates=candidates, export={"precisions": ["fp32"]})
            cluster.request("POST", manifests.path(NAMESPACE), manifest)
            applied[name] = time.monotonic()
        applied_all = time.monotonic() - started
        promoted: set[str] = set()
        while len(promoted) < len(names) and time.monotonic() - started < args.timeout:
            now = time.monotonic()
            for job in controller.jobs().values():
                model = job["metadata"]["labels"]["frontier.dev/model"]
                first_job.setdefault(model, now)
            controller.finish_all(measured)
            listed = cluster.request("GET", manifests.path(NAMESPACE))
            for item in listed["items"]:
                conditions = {c["type"]: c["status"] for c in (item.get("status") or {}).get("conditions") or []}
                if conditions.get("Promoted") == "True" and conditions.get("Ready") == "True":
                    promoted.add(item["metadata"]["name"])
            peak_rss = max(peak_rss, proc.memory_info().rss)
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        cpu = proc.cpu_times()
        latencies = sorted(first_job[n] - applied[n] for n in names if n in first_job)
        jobs_total = len(controller.jobs())
        report = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "models": args.models,
            "candidates": args.candidates,
            "jobs": jobs_total,
            "promoted": len(promoted),
            "apply_all_s": round(applied_all, 2),
            "all_promoted_s": round(elapsed, 1),
            "first_job_p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "first_job_max_s": round(latencies[-1], 2) if latencies else None,
            "operator_cpu_s": round(cpu.user + cpu.system, 1),
            "operator_peak_rss_mib": round(peak_rss / 2**20, 1),
        }
        print(report)
        return 0 if len(promoted) == len(names) else 1
    finally:
        if operator is not None:
            operator.terminate()
            operator.wait(30)
        cluster.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
