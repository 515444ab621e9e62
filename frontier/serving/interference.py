"""How much of the machine other work took while a benchmark ran: ``/proc/stat`` and the processes we know.

A benchmark on a shared node (the normal case for a benchmark Job) competes with neighbours. We read the
machine's busy CPU time and steal time (``/proc/stat``) around each measured slot, subtract the CPU time
of the processes that are part of the measurement (this load generator; the Triton server and its
python-backend stubs when they run here), and call the rest *interference*, in cores. On a machine where
Triton runs elsewhere (a cluster), the rest includes whatever else that node runs — which is the point.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Sample:
    wall_s: float
    busy_s: float  # every CPU's non-idle time, steal excluded
    steal_s: float
    total_s: float
    ours_s: float  # CPU time of the processes that belong to the measurement


@dataclass(frozen=True)
class Interference:
    cores: float
    """CPU taken by others, in cores, averaged over the slot."""
    steal: float
    """Share of CPU time stolen by the hypervisor."""


def _machine() -> tuple[float, float, float]:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return (0.0, 0.0, 0.0)
    values = [int(x) / TICKS for x in fields]
    user, nice, system, idle, iowait, irq, softirq = values[:7]
    steal = values[7] if len(values) > 7 else 0.0
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17 of the full line (11-14 after the command)
    return sum(int(x) for x in fields[11:15]) / TICKS


def _group(pgid: int | None) -> list[int]:
    if pgid is None:
        return []
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return members


class Monitor:
    """Samples around a measured slot; ``pgids`` are process groups that belong to the measurement."""

    def __init__(self, pgids: Iterable[int | None] = ()) -> None:
        self.pgids = [g for g in pgids if g is not None]

    def sample(self) -> Sample:
        busy, steal, total = _machine()
        pids = {os.getpid(), *(p for g in self.pgids for p in _group(g))}
        ours = sum(_process_cpu(p) for p in pids)
        return Sample(time.perf_counter(), busy, steal, total, ours)

    @staticmethod
    def between(before: Sample, after: Sample) -> Interference:
        wall = after.wall_s - before.wall_s
        if wall <= 0:
            return Interference(0.0, 0.0)
        others = (after.busy_s - before.busy_s) - (after.ours_s - before.ours_s)
        total = after.total_s - before.total_s
        steal = (after.steal_s - before.steal_s) / total if total > 0 else 0.0
        return Interference(max(0.0, others / wall), min(1.0, max(0.0, steal)))
