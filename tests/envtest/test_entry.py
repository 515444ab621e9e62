"""``frontier operator`` as a process: flags, liveness endpoint, Prometheus metrics, a clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from typing import Any

from . import manifests
from .cluster import EnvtestCluster, free_port
from .standin import JobController, train_job, wait_for


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode()) if response.status == 200 else None
    except OSError:
        return None


def test_operator_command(cluster: EnvtestCluster, crd: dict[str, Any], namespace: str) -> None:
    health, metrics_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "frontier.cli",
            "operator",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "-n",
            namespace,
            "--liveness",
            f"http://127.0.0.1:{health}/healthz",
            "--metrics-port",
            str(metrics_port),
            "--worker-image",
            "worker:cli",
            "--resync-s",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{health}/healthz") is not None, 30, 0.2, what="healthz")
        cluster.request("POST", manifests.path(namespace), manifests.valid("cli", export={"precisions": ["fp32"]}))
        job = JobController(cluster, namespace).wait_jobs(1, role_="train")[train_job(cluster, namespace, "cli")]
        assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "worker:cli"
        text = wait_for(
            lambda: (
                (t := _get(f"http://127.0.0.1:{metrics_port}/metrics"))
                and 'frontier_jobs_total{role="train",state="created"} 1.0' in t
                and t
            ),
            20,
            what="metrics",
        )
        assert 'frontier_reconciliations_total{handler="reconcile"}' in text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert process.returncode == 0, output[-3000:]
