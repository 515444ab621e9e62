"""The compute a training process may use: CPU threads (cgroup quota aware), device, and torchrun DDP.

``resources.gpu > 1`` makes the operator start the Job with ``torchrun --nproc-per-node=N frontier
train ...``; torchrun sets WORLD_SIZE/RANK/LOCAL_RANK and this module joins the process group (NCCL on
GPUs, gloo on CPUs). Every rank trains on its share of each epoch's batches; rank 0 alone evaluates,
checkpoints and exports. Without WORLD_SIZE (or with 1) nothing distributed happens.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    rank: int = 0
    world_size: int = 1
    threads: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def cpu_budget() -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (Kubernetes limits)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def setup() -> Runtime:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    # An explicit OMP_NUM_THREADS wins; otherwise share the CPU budget between local ranks.
    threads = int(os.environ.get("OMP_NUM_THREADS", "0")) or max(1, cpu_budget() // max(1, local_world))
    torch.set_num_threads(threads)
    if world_size > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Runtime(device, rank, world_size, threads)
