"""Test doubles for what envtest lacks: the operator run in a thread, and a stand-in Job controller.

``RunningOperator`` runs the real ``frontier.operator.entry.operate`` coroutine (kopf, the real
handlers, the real Kubernetes client) in a thread with a stop flag, as ``kopf.testing.KopfRunner``
does, but through Frontier's own entry point and settings.

``JobController`` plays the part of kube-controller-manager + kubelet + the workload: for every Job
it is told to finish, it writes the workload's result into the Job's result ConfigMap (exactly what
``frontier.results.publish`` does in a pod) and then the Job's status through the status
subresource, with the conditions the real Job controller writes (SuccessCriteriaMet → Complete,
FailureTarget → Failed), which the API server validates.

In *execute* mode (``JobController.execute`` / ``execute_all`` with a ``workload.LocalWorkload``) it
writes no result itself: it runs the Job's real container command on this machine, which reports its own
result (``frontier.results.publish``), and then writes the status from the process's exit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from frontier import results
from frontier.api import API_VERSION, PLURAL
from frontier.operator import jobs as jobs_
from frontier.operator.entry import operate
from frontier.operator.settings import OperatorSettings

from .cluster import ApiError, EnvtestCluster
from .workload import LocalWorkload, Outcome


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class RunningOperator:
    def __init__(self, settings: OperatorSettings, name: str = "frontier-operator") -> None:
        self.settings = settings
        self.stop_flag = threading.Event()
        self.ready_flag = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(operate(self.settings, stop_flag=self.stop_flag, ready_flag=self.ready_flag))
        except BaseException as error:  # surfaced by __exit__
            self.error = error

    def start(self) -> None:
        self.thread.start()

    def wait_ready(self) -> None:
        if not self.ready_flag.wait(30):
            raise TimeoutError(f"operator not ready: {self.error!r}")

    def __enter__(self) -> RunningOperator:
        self.start()
        self.wait_ready()
        return self

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "the operator did not stop"

    def __exit__(self, *exc: object) -> None:
        self.stop()


def target(cluster: EnvtestCluster, namespace: str, model: str) -> jobs_.Target:
    body = cluster.request("GET", f"/apis/{API_VERSION}/namespaces/{namespace}/{PLURAL}/{model}")
    return jobs_.Target(model, namespace, body["metadata"]["uid"], int(body["metadata"]["generation"]))


def train_job(
    cluster: EnvtestCluster, namespace: str, model: str, candidate: str = "minilm", generation: int = 1
) -> str:
    """The name the operator gives that training Job (it carries a hash of the model's uid)."""
    return jobs_.train_job_name(target(cluster, namespace, model), candidate, generation)


def bench_job(cluster: EnvtestCluster, namespace: str, model: str, generation: int = 1) -> str:
    return jobs_.bench_job_name(target(cluster, namespace, model), generation)


def contenders(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The versions a benchmark Job measures together (its ``--contender`` arguments)."""
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    return [json.loads(command[i + 1]) for i, arg in enumerate(command) if arg == "--contender"]


def argument(job: dict[str, Any], flag: str) -> str:
    command = job["spec"]["template"]["spec"]["containers"][0]["command"]
    return str(command[command.index(flag) + 1])


def role(job: dict[str, Any]) -> str:
    return str(job["metadata"]["labels"]["frontier.dev/role"])


class JobController:
    """Finishes Jobs in one namespace; tests call it directly or let it ``run`` a policy."""

    def __init__(self, cluster: EnvtestCluster, namespace: str) -> None:
        self.cluster, self.namespace = cluster, namespace
        self.finished: set[str] = set()

    def jobs(self, selector: str = "app.kubernetes.io/managed-by=frontier") -> dict[str, dict[str, Any]]:
        listed = self.cluster.request(
            "GET", f"/apis/batch/v1/namespaces/{self.namespace}/jobs?labelSelector={selector}"
        )
        return {j["metadata"]["name"]: j for j in listed["items"]}

    def wait_jobs(self, count: int, timeout: float = 30.0, role_: str | None = None) -> dict[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = {n: j for n, j in self.jobs().items() if role_ is None or role(j) == role_}
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) >= count, f"expected {count} {role_ or ''} Jobs, found {sorted(found)}"
                return found
            time.sleep(0.1)

    def _write_result(self, name: str, payload: dict[str, Any]) -> None:
        self.cluster.request(
            "PATCH",
            f"/api/v1/namespaces/{self.namespace}/configmaps/{name}",
            {"data": results.encode(payload)},
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def _status(self, name: str, status: dict[str, Any]) -> None:
        self.cluster.request(
            "PATCH",
            f"/apis/batch/v1/namespaces/{self.namespace}/jobs/{name}/status",
            {"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )

    def start(self, name: str) -> None:
        self._status(name, {"startTime": _now(), "active": 1, "ready": 0})

    def succeed(self, job: dict[str, Any], payload: dict[str, Any]) -> None:
        self._write_result(job["metadata"]["name"], payload)
        self.complete(job)

    def complete(self, job: dict[str, Any]) -> None:
        """The Job's status once its pod exited 0 (whatever result the workload wrote stands)."""
        name = job["metadata"]["name"]
        now = _now()
        status = job.get("status") or {}
        self._status(
            name,
            {
                "startTime": status.get("startTime") or now,
                "completionTime": now,
                "active": 0,
                "ready": 0,
                "succeeded": 1,
                "terminating": 0,
                "conditions": [
                    {
                        "type": "SuccessCriteriaMet",
                        "status": "True",
                        "reason": "CompletionsReached",
                        "message": "Reached expected number of succeeded pods",
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "Complete",
                        "status": "True",
                        "reason": "CompletionsReached",
                        "message": "Reached expected number of succeeded pods",
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                ],
            },
        )
        self.finished.add(name)

    def fail(
        self,
        job: dict[str, Any],
        reason: str = "BackoffLimitExceeded",
        message: str = "Job has reached the specified backoff limit",
    ) -> None:
        name = job["metadata"]["name"]
        now = _now()
        status = job.get("status") or {}
        self._status(
            name,
            {
                "startTime": status.get("startTime") or now,
                "active": 0,
                "ready": 0,
                "terminating": 0,
                "failed": int(job["spec"].get("backoffLimit", 6)) + 1,
                "conditions": [
                    {
                        "type": "FailureTarget",
                        "status": "True",
                        "reason": reason,
                        "message": message,
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": reason,
                        "message": message,
                        "lastProbeTime": now,
                        "lastTransitionTime": now,
                    },
                ],
            },
        )
        self.finished.add(name)

    # ------------------------------------------------------------------ a whole workload, executed

    def execute(self, job: dict[str, Any], workload: LocalWorkload) -> Outcome:
        """Run the Job's container command for real (``LocalWorkload``), then write its final status."""
        name = job["metadata"]["name"]
        self.start(name)
        outcome = workload.run(job)
        current = self.cluster.request("GET", f"/apis/batch/v1/namespaces/{self.namespace}/jobs/{name}")
        if outcome.succeeded:
            self.complete(current)
        else:
            self.fail(current, outcome.reason, outcome.message)
        return outcome

    def execute_all(self, workload: LocalWorkload, roles: tuple[str, ...] = ("train", "bench")) -> list[Outcome]:
        """Execute, one after the other, every Job of ``roles`` not finished yet (oldest name first)."""
        outcomes = []
        for name, job in sorted(self.jobs().items()):
            if name in self.finished or role(job) not in roles or (job.get("status") or {}).get("conditions"):
                continue
            outcomes.append(self.execute(job, workload))
        return outcomes

    # ------------------------------------------------------------------ a whole workload, faked

    @staticmethod
    def train_result(job: dict[str, Any]) -> dict[str, Any]:
        uri = argument(job, "--out")
        return {"artifact": {"uri": uri, "sha256": hashlib.sha256(uri.encode()).hexdigest()}}

    def finish_all(
        self, metrics_of: Callable[[dict[str, Any]], dict[str, Any] | None], roles: tuple[str, ...] = ("train", "bench")
    ) -> int:
        """Succeed every unfinished Job of ``roles`` once. A bench Job reports ``metrics_of(contender)`` for
        each of its contenders (``{"version", "candidate", "precision", "generation", "artifact"}``), and
        fails when any of them is None."""
        done = 0
        for name, job in self.jobs().items():
            if name in self.finished or role(job) not in roles or (job.get("status") or {}).get("conditions"):
                continue
            if role(job) == "train":
                self.succeed(job, self.train_result(job))
            elif role(job) == "bench":
                measured = {str(c["version"]): metrics_of(c) for c in contenders(job)}
                if any(m is None for m in measured.values()):
                    self.fail(job, "DeadlineExceeded", "Job was active longer than specified deadline")
                else:
                    self.succeed(job, {"metrics": measured})
            done += 1
        return done


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except ApiError:
            last = None
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what or predicate}: last {last!r}")
