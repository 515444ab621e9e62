"""An embedded Triton Inference Server: the real ``tritonserver`` binary that ships inside nvidia-pytriton.

``EmbeddedTriton`` runs it as a child process in its own process group, in explicit model-control mode
(Frontier loads, swaps and unloads every model itself), on free ports unless given, and logs to a file.
It is what ``frontier run`` and the tests serve with on a laptop; in a cluster the official Triton image
plays the same part and ``frontier.serving.client`` talks to it the same way.

Why the set-up below:

* **A private backend directory.** The wheel's ``backends/python`` has ``libtriton_python.so`` but not the
  ``triton_python_backend_stub`` for our interpreter (pytriton keeps one per Python version aside). We
  build ``<workdir>/backends/python/`` with symlinks to the wheel's files plus a copy of the 3.x stub.
* **The stub must find our interpreter and our packages.** ``LD_LIBRARY_PATH`` starts with this
  interpreter's ``LIBDIR`` (its ``libpython3.x.so``) and the wheel's ``nvidia_pytriton.libs``;
  ``PYTHONPATH`` carries this environment's ``site-packages`` so ``model.py`` imports onnxruntime,
  tokenizers and numpy from the same venv.
* **No orphans.** The server starts in a new session; ``stop()`` sends SIGTERM to the whole process group
  (server and python-backend stubs), waits, then SIGKILLs what is left.
* **Errors name the cause.** A port already taken is refused before starting (the message names it);
  a server that exits or never becomes ready raises ``ServingError`` with the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from frontier.errors import ServingError


@dataclass(frozen=True)
class TritonDistribution:
    """Where the pieces of the Triton shipped by nvidia-pytriton live."""

    binary: Path
    python_backend: Path
    stub: Path
    libs: Path
    site_packages: Path

    @classmethod
    def find(cls) -> TritonDistribution:
        import importlib.util

        spec = importlib.util.find_spec("pytriton")
        if spec is None or not spec.submodule_search_locations:
            raise ServingError("nvidia-pytriton is not installed: no tritonserver binary to embed")
        root = Path(next(iter(spec.submodule_search_locations)))
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        found = cls(
            binary=root / "tritonserver" / "bin" / "tritonserver",
            python_backend=root / "tritonserver" / "backends" / "python",
            stub=root / "tritonserver" / "python_backend_stubs" / version / "triton_python_backend_stub",
            libs=root.parent / "nvidia_pytriton.libs",
            site_packages=root.parent,
        )
        for path in (found.binary, found.python_backend, found.stub):
            if not path.exists():
                raise ServingError(f"nvidia-pytriton is incomplete: {path} does not exist")
        return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Nothing listens there. SO_REUSEADDR as servers bind: connections of a stopped server lingering in
    TIME_WAIT do not keep a restarted one off its port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class EmbeddedTriton:
    """A ``tritonserver`` child process serving ``model_repository`` in explicit model-control mode.

    Use as a context manager (``with EmbeddedTriton(repo) as triton: triton.http_url``) or call
    ``start()`` / ``stop()``. Ports left as ``None`` are chosen free.
    """

    model_repository: Path
    http_port: int | None = None
    grpc_port: int | None = None
    metrics_port: int | None = None
    workdir: Path | None = None
    log_path: Path | None = None
    startup_timeout_s: float = 60.0
    exit_timeout_s: int = 3
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _own_workdir: bool = field(default=False, init=False, repr=False)

    # ---------------------------------------------------------------------------------- urls
    @property
    def http_url(self) -> str:
        """``host:port`` of the HTTP endpoint, as tritonclient expects it."""
        return f"127.0.0.1:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # ------------------------------------------------------------------------------- start
    def start(self) -> EmbeddedTriton:
        if self.process is not None and self.process.poll() is None:
            return self
        dist = TritonDistribution.find()
        repository = Path(self.model_repository)
        self._choose_ports()
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="frontier-triton-"))
            self._own_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        backends = self._backend_directory(dist, self.workdir)
        if self.log_path is None:
            self.log_path = self.workdir / "tritonserver.log"
        command = [
            str(dist.binary),
            f"--model-repository={repository}",
            "--model-control-mode=explicit",
            f"--backend-directory={backends}",
            f"--http-port={self.http_port}",
            f"--grpc-port={self.grpc_port}",
            f"--metrics-port={self.metrics_port}",
            "--allow-gpu-metrics=false",
            f"--exit-timeout-secs={self.exit_timeout_s}",
            "--strict-readiness=true",
            "--log-verbose=0",
            *self.extra_args,
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._environment(dist),
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _choose_ports(self) -> None:
        taken: set[int] = set()
        for attr in ("http_port", "grpc_port", "metrics_port"):
            port = getattr(self, attr)
            if port is None:
                port = free_port()
                while port in taken:
                    port = free_port()
                setattr(self, attr, port)
            elif not port_is_free(port):
                raise ServingError(f"cannot start Triton: port {port} ({attr.replace('_', ' ')}) is already in use")
            taken.add(port)

    @staticmethod
    def _backend_directory(dist: TritonDistribution, workdir: Path) -> Path:
        backends = workdir / "backends"
        python = backends / "python"
        python.mkdir(parents=True, exist_ok=True)
        for entry in dist.python_backend.iterdir():
            link = python / entry.name
            if entry.name != "__pycache__" and not link.exists():
                link.symlink_to(entry)
        stub = python / "triton_python_backend_stub"
        if not stub.exists():
            shutil.copy2(dist.stub, stub)
        return backends

    @staticmethod
    def _environment(dist: TritonDistribution) -> dict[str, str]:
        env = dict(os.environ)
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        ld_path = [p for p in (libdir, str(dist.libs), env.get("LD_LIBRARY_PATH", "")) if p]
        env["LD_LIBRARY_PATH"] = ":".join(ld_path)
        python_path = [str(dist.site_packages), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = ":".join(p for p in python_path if p)
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        # Each stub would otherwise start one OpenMP/ORT thread per core on top of Triton's own.
        env.setdefault("OMP_NUM_THREADS", "1")
        return env

    def _wait_ready(self) -> None:
        assert self.process is not None and self.log_path is not None
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"http://{self.http_url}/v2/health/ready"
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise ServingError(
                    f"Triton exited with status {code} while starting; log {self.log_path}:\n" + log_tail(self.log_path)
                )
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                with urllib.request.urlopen(url, timeout=1.0) as response:
                    if response.status == 200:
                        return
            time.sleep(0.1)
        raise ServingError(
            f"Triton was not ready after {self.startup_timeout_s:.0f} s; log {self.log_path}:\n"
            + log_tail(self.log_path)
        )

    # -------------------------------------------------------------------------------- stop
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float | None = None) -> None:
        """SIGTERM the server (it finalizes its python-backend stubs), wait, then SIGKILL its whole
        process group, so no stub outlives it."""
        if self.process is None:
            return
        pgid = self.process.pid
        wait = timeout_s if timeout_s is not None else self.exit_timeout_s + 10.0
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # The stubs leave after the server; whatever of the group remains is killed.
        deadline = time.monotonic() + 5.0
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process = None
        if self._own_workdir and self.workdir is not None and self.log_path is not None:
            # Keep the log (callers may read it) but drop the backend copy.
            shutil.rmtree(self.workdir / "backends", ignore_errors=True)

    def __enter__(self) -> EmbeddedTriton:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def group_alive(pgid: int) -> bool:
    """Whether any process of group ``pgid`` is still running (zombies count as gone)."""
    return bool(group_members(pgid))


def group_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, command name) of the live processes in process group ``pgid`` (Linux /proc)."""
    members: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append((int(entry.name), comm))
    return members
