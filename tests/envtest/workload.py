"""Runs a Job's workload for real, on this machine: what a kubelet would run in the Job's pod.

``LocalWorkload`` turns a batch/v1 Job into a local process:

* the command: ``frontier <verb> ...`` becomes ``[sys.executable, "-m", "frontier.cli", <verb>, ...]``
  (``python -m ...`` becomes ``[sys.executable, "-m", ...]``), so it runs this checkout in this venv;
* the volumes: every ConfigMap volume (the generation's manifest at ``/etc/frontier``) is read from the API
  server and written under a per-Job directory, each argument under its ``mountPath`` rewritten to the local
  copy; every emptyDir is an empty per-Job directory, each ``env`` value under it (``HOME``, ``TMPDIR``)
  rewritten. Other volume kinds (a PVC) are refused: the test points every path at a local directory;
* the environment: this process's, plus the container's ``env`` (``value`` and the ``metadata.*``
  ``fieldRef``s the Downward API resolves), plus ``KUBECONFIG`` = the envtest admin kubeconfig, so
  ``frontier.results.publish`` (the kubeconfig in use outside a pod) writes the result ConfigMap;
* a deadline: the process group is killed after ``timeout_s`` (or the Job's ``activeDeadlineSeconds``,
  whichever is shorter), as the Job controller does with ``DeadlineExceeded``.

``run`` returns an ``Outcome``; ``JobController.execute`` (``standin.py``) turns it into the Job's status.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cluster import EnvtestCluster, _die_with_parent


@dataclass(frozen=True)
class Outcome:
    job: str
    argv: list[str]
    returncode: int | None
    """None when the deadline killed it."""
    seconds: float
    log: Path

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0

    @property
    def reason(self) -> str:
        return "DeadlineExceeded" if self.returncode is None else "BackoffLimitExceeded"

    @property
    def message(self) -> str:
        if self.returncode is None:
            return "Job was active longer than specified deadline"
        return "Job has reached the specified backoff limit"

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class LocalWorkload:
    cluster: EnvtestCluster
    workdir: Path
    timeout_s: float = 180.0
    outcomes: list[Outcome] = field(default_factory=list)

    # ------------------------------------------------------------------------------ translation
    @staticmethod
    def container(job: dict[str, Any]) -> dict[str, Any]:
        containers = job["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1, f"{job['metadata']['name']}: expected one container"
        return dict(containers[0])

    def mounts(self, job: dict[str, Any]) -> dict[str, Path]:
        """``{mountPath: local directory}`` with each ConfigMap volume's keys written as files."""
        name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
        volumes = {v["name"]: v for v in job["spec"]["template"]["spec"].get("volumes") or []}
        local: dict[str, Path] = {}
        for mount in self.container(job).get("volumeMounts") or []:
            volume = volumes[mount["name"]]
            if "emptyDir" in volume:  # see scratch()
                continue
            source = volume.get("configMap")
            assert source is not None, f"{name}: only ConfigMap and emptyDir volumes run locally, not {volume}"
            configmap = self.cluster.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{source['name']}")
            directory = self.workdir / name / mount["name"]
            directory.mkdir(parents=True, exist_ok=True)
            for key, text in (configmap.get("data") or {}).items():
                (directory / key).write_text(text)
            local[mount["mountPath"].rstrip("/")] = directory
        return local

    def scratch(self, job: dict[str, Any]) -> dict[str, Path]:
        """``{mountPath: local directory}`` of each emptyDir (HOME, caches): a fresh directory per Job. Only
        ``env`` values under it are rewritten, not arguments (a test's own paths may lie under /tmp too)."""
        name = job["metadata"]["name"]
        volumes = {v["name"]: v for v in job["spec"]["template"]["spec"].get("volumes") or []}
        local: dict[str, Path] = {}
        for mount in self.container(job).get("volumeMounts") or []:
            if "emptyDir" in volumes[mount["name"]]:
                local[mount["mountPath"].rstrip("/")] = self.workdir / name / mount["name"]
                local[mount["mountPath"].rstrip("/")].mkdir(parents=True, exist_ok=True)
        return local

    def argv(self, job: dict[str, Any], mounts: dict[str, Path]) -> list[str]:
        command = [str(part) for part in self.container(job)["command"]]
        if command[0] == "frontier":
            command = [sys.executable, "-m", "frontier.cli", *command[1:]]
        elif command[0] in ("python", "python3"):
            command = [sys.executable, *command[1:]]
        else:
            raise AssertionError(f"{job['metadata']['name']}: no local stand-in for {command[0]!r}")
        for i, part in enumerate(command):
            for mount_path, directory in mounts.items():
                if part.startswith(mount_path + "/"):
                    command[i] = str(directory / part[len(mount_path) + 1 :])
        return command

    def secret_value(self, namespace: str, reference: dict[str, Any]) -> str | None:
        """What the kubelet puts in a ``secretKeyRef`` variable: the key's decoded value; nothing when an
        *optional* reference names a Secret or key that is not there (a required one would not start)."""
        import base64

        from .cluster import ApiError

        try:
            secret = self.cluster.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{reference['name']}")
        except ApiError:
            secret = {}
        encoded = (secret.get("data") or {}).get(reference["key"])
        if encoded is None:
            assert reference.get("optional"), f"a required Secret key {reference} is missing: the pod would not start"
            return None
        return base64.b64decode(encoded).decode()

    def environment(self, job: dict[str, Any], scratch: dict[str, Path] | None = None) -> dict[str, str]:
        container = self.container(job)
        assert not container.get("envFrom"), f"{job['metadata']['name']}: envFrom has no local stand-in"
        fields = {
            "metadata.namespace": job["metadata"]["namespace"],
            "metadata.name": job["metadata"]["name"],  # the pod's name in a cluster; close enough here
        }
        env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        for variable in container.get("env") or []:
            if "value" in variable:
                env[variable["name"]] = str(variable["value"])
            elif "secretKeyRef" in variable["valueFrom"]:
                value = self.secret_value(job["metadata"]["namespace"], variable["valueFrom"]["secretKeyRef"])
                if value is not None:
                    env[variable["name"]] = value
            else:
                env[variable["name"]] = fields[variable["valueFrom"]["fieldRef"]["fieldPath"]]
        env["KUBECONFIG"] = str(self.cluster.kubeconfig)
        for variable in container.get("env") or []:  # a value under an emptyDir (HOME=/tmp) follows it
            if variable["name"] not in env:  # an optional reference to a Secret that is not there
                continue
            value = env[variable["name"]]
            for mount_path, directory in (scratch or {}).items():
                if value == mount_path or value.startswith(mount_path + "/"):
                    env[variable["name"]] = str(directory) + value[len(mount_path) :]
        return env

    # ------------------------------------------------------------------------------------- run
    def run(self, job: dict[str, Any]) -> Outcome:
        name = job["metadata"]["name"]
        argv = self.argv(job, self.mounts(job))
        deadline = min(self.timeout_s, float(job["spec"].get("activeDeadlineSeconds") or self.timeout_s))
        (self.workdir / name).mkdir(parents=True, exist_ok=True)
        log = self.workdir / f"{name}.log"
        started = time.monotonic()
        with log.open("wb") as handle:
            process = subprocess.Popen(
                argv,
                cwd=self.workdir / name,
                env=self.environment(job, self.scratch(job)),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
                process_group=0,
            )
            try:
                returncode: int | None = process.wait(deadline)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
                returncode = None
        outcome = Outcome(name, argv, returncode, time.monotonic() - started, log)
        self.outcomes.append(outcome)
        return outcome

    def report(self) -> str:
        """Every run so far with the tail of its log: the message of a failed assertion."""
        return "\n\n".join(
            f"--- {o.job} rc={o.returncode} {o.seconds:.1f}s: {' '.join(o.argv)}\n{o.tail()}" for o in self.outcomes
        )
