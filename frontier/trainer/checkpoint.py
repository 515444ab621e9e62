"""Training checkpoints: one explicit dict, written atomically, so a preempted Job resumes where it was.

A checkpoint holds the trainable weights (all of them for full fine-tuning, the adapter and head for
LoRA), the optimizer and scheduler, the position (optimizer step, epoch, batches done in that epoch),
every RNG state, the scored history and the best weights so far. ``fingerprint`` ties it to the spec
and the data: resuming a different run is refused rather than silently mixed.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from frontier.errors import TrainingError

FORMAT = 1
LAST = "last.pt"


def trainable_state(model: Any) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model: Any, state: dict[str, torch.Tensor]) -> None:
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise TrainingError(f"checkpoint does not fit the model: unexpected {result.unexpected_keys[:5]}")


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(directory: Path, checkpoint: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / LAST
    staging = directory / f".{LAST}.{os.getpid()}"
    torch.save({"format": FORMAT, **checkpoint}, staging)
    os.replace(staging, final)  # a kill mid-write leaves the previous checkpoint intact
    return final


def load(directory: Path, fingerprint: str) -> dict[str, Any] | None:
    path = directory / LAST
    if not path.is_file():
        return None
    try:
        checkpoint: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a damaged pickle raises many types
        raise TrainingError(f"{path}: cannot read the checkpoint: {error}") from None
    if checkpoint.get("format") != FORMAT:
        raise TrainingError(f"{path}: checkpoint format {checkpoint.get('format')} is not {FORMAT}")
    if checkpoint.get("fingerprint") != fingerprint:
        raise TrainingError(
            f"{path}: the checkpoint belongs to a different spec or data (fingerprint "
            f"{str(checkpoint.get('fingerprint'))[:12]}… vs {fingerprint[:12]}…); remove it or drop --resume"
        )
    return checkpoint
