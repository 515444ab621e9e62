"""Export the trained model to ONNX and prove the export computes what the model computes.

The legacy TorchScript exporter (``dynamo=False``) is used: with torch 2.13 and transformers 5 it
exports BERT-family encoders and Llama/Qwen-family decoders in about a second with dynamic batch and
sequence axes, where the dynamo exporter takes ten times longer and rewrites the opset. LoRA is merged
into the base weights first and the KV cache is off, so the graph is a plain classifier:
``input_ids``, ``attention_mask`` (+ ``token_type_ids`` for models that use them) → ``logits``.

The parity check runs ONNX Runtime and the torch model on ``export.paritySamples`` eval rows; every
|Δlogit| must be within ``export.parityTolerance`` and every argmax equal, else TrainingError.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from frontier.errors import TrainingError
from frontier.trainer.batching import Encoded, collate
from frontier.trainer.evaluation import onnx_logits, onnx_session, torch_logits

WORST_LISTED = 5


class _Logits(torch.nn.Module):
    """Positional inputs in ONNX order, and only the logits out."""

    def __init__(self, model: Any, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        kwargs = dict(zip(self.input_names, inputs, strict=True))
        logits: torch.Tensor = self.model(**kwargs).logits  # use_cache is off in the config
        return logits


def _example(encoded: Encoded, input_names: list[str]) -> tuple[torch.Tensor, ...]:
    """Two rows with one extra pad column: tracing sees a real padding mask, so it can never be
    specialised away as 'no padding'."""
    order = np.argsort(encoded.lengths())
    rows = [int(order[-1]), int(order[0])] if len(order) > 1 else [int(order[0])] * 2
    batch = collate(encoded, rows)
    extra = {"input_ids": encoded.pad_id, "attention_mask": 0, "token_type_ids": 0}
    return tuple(torch.nn.functional.pad(batch[n], (0, 1), value=extra[n]) for n in input_names)


@contextmanager
def _plain_attention(model: Any) -> Iterator[None]:
    """Attention written out as matmul → mask → softmax → matmul ("eager") while exporting. The default
    (``sdpa``) traces into a graph with NaN guards (IsNaN/Where on every layer's scores, 680 nodes
    against 527 for MiniLM) that ONNX Runtime runs slower: through Triton at concurrency 8, eager exports
    served 11 % (fp32) and 13 % (int8) more requests per second (bench/RESULTS.md). Same function: the
    parity check compares the export with the model as trained."""
    from transformers import PreTrainedModel

    models = [m for m in model.modules() if isinstance(m, PreTrainedModel)]
    before = [m.config._attn_implementation for m in models]
    for m in models:
        m.set_attn_implementation("eager")
    try:
        yield
    finally:
        for m, implementation in zip(models, before, strict=True):
            if implementation is not None:
                m.set_attn_implementation(implementation)


def export_onnx(model: Any, input_names: list[str], example: Encoded, path: Path, opset: int) -> None:
    wrapper = _Logits(model, input_names).eval()  # eval() on the wrapper: the exporter restores its mode
    axes = {name: {0: "batch", 1: "sequence"} for name in input_names} | {"logits": {0: "batch"}}
    try:
        with warnings.catch_warnings(), torch.no_grad(), _plain_attention(model):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                _example(example, input_names),
                str(path),
                input_names=input_names,
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=opset,
                dynamo=False,
                do_constant_folding=True,
            )
    except Exception as error:  # the exporter raises many types; all mean "this model did not export"
        raise TrainingError(f"ONNX export failed: {type(error).__name__}: {error}") from None
    model.eval()


@dataclass(frozen=True)
class Exported:
    """The fp32 model as served (fused where the architecture allows) and the graph as exported."""

    parity: Parity
    """The served graph's parity check."""
    unfused: Path
    """The exported graph before fusion: static INT8 selects its linear layers by their exported names."""
    method: str


@dataclass(frozen=True)
class Parity:
    max_abs_delta: float
    agreement: float
    samples: int
    reference_logits: npt.NDArray[np.float32]
    onnx_logits: npt.NDArray[np.float32]


def check_parity(
    model: Any, onnx_path: Path, encoded: Encoded, device: torch.device, tolerance: float, texts: list[str]
) -> Parity:
    reference = torch_logits(model, encoded, device)
    exported = onnx_logits(onnx_session(str(onnx_path)), encoded)
    delta = np.abs(reference - exported).max(axis=1)
    agree = reference.argmax(1) == exported.argmax(1)
    parity = Parity(float(delta.max()), float(agree.mean()), len(encoded), reference, exported)
    if parity.max_abs_delta > tolerance or not agree.all():
        worst = np.argsort(-delta)[:WORST_LISTED]
        lines = "\n".join(
            f"  - sample {i}: |Δlogit| {delta[i]:.3g}, argmax torch {reference[i].argmax()} vs onnx "
            f"{exported[i].argmax()}: {texts[i][:60]!r}"
            for i in worst
        )
        raise TrainingError(
            f"ONNX parity failed on {len(encoded)} eval samples: max |Δlogit| {parity.max_abs_delta:.3g} "
            f"(export.parityTolerance {tolerance:g}), {int((~agree).sum())} argmax disagreement(s); worst:\n{lines}"
        )
    return parity


def save_tokenizer(tokenizer: Any, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(directory))
