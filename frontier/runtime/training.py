"""One training Job, played locally: ``frontier train`` in a subprocess with its log kept.

The child runs in its own process group so Ctrl-C (or a failure elsewhere) stops it and everything it
started. Its output goes to the log file and, one line at a time, to the console.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path

from frontier.errors import TrainingError


def train_command(manifest: Path, candidate: str, out: Path, data_root: Path | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "frontier.cli",
        "train",
        "--manifest",
        str(manifest),
        "--candidate",
        candidate,
        "--out",
        str(out),
    ]
    if data_root is not None:
        command += ["--data-root", str(data_root)]
    return command


def run_logged(command: list[str], log: Path, echo: Callable[[str], None], tail_lines: int = 30) -> None:
    """Run ``command``; TrainingError with the log's tail when it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    tail: deque[str] = deque(maxlen=tail_lines)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as sink:
        sink.write("$ " + " ".join(command) + "\n")
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            assert child.stdout is not None
            for raw in child.stdout:
                for line in raw.replace("\r", "\n").splitlines():
                    if line.strip():
                        sink.write(line + "\n")
                        tail.append(line)
                        echo(line)
            code = child.wait()
        except BaseException:
            _stop(child)
            raise
    if code != 0:
        raise TrainingError(f"exit code {code}; log {log}:\n" + "\n".join(tail))


def _stop(child: subprocess.Popen[str]) -> None:
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
