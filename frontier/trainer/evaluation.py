"""Scoring a model on a split: logits for every row (torch or ONNX Runtime) and the metrics report.

Inference runs in ``torch.inference_mode`` on length-sorted batches, so evaluating the eval split every
epoch costs a fraction of a training epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from frontier.data import metrics
from frontier.trainer.batching import Encoded, collate, inference_batches

EVAL_BATCH = 64


def torch_logits(
    model: Any, encoded: Encoded, device: torch.device, *, autocast: bool = False
) -> npt.NDArray[np.float32]:
    was_training = model.training
    model.eval()
    out = np.zeros((len(encoded), model.config.num_labels), dtype=np.float32)
    with torch.inference_mode():
        for rows in inference_batches(encoded.lengths(), EVAL_BATCH):
            batch = {k: v.to(device) for k, v in collate(encoded, rows).items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                logits = model(**batch).logits
            out[rows] = logits.float().cpu().numpy()
    model.train(was_training)
    return out


def onnx_logits(session: Any, encoded: Encoded, batch_size: int = EVAL_BATCH) -> npt.NDArray[np.float32]:
    """Logits of an onnxruntime InferenceSession, fed the inputs its graph declares."""
    names = {i.name for i in session.get_inputs()}
    out: npt.NDArray[np.float32] | None = None
    for rows in inference_batches(encoded.lengths(), batch_size):
        feed = {k: v.numpy() for k, v in collate(encoded, rows).items() if k in names}
        logits = np.asarray(session.run(["logits"], feed)[0], dtype=np.float32)
        if out is None:
            out = np.zeros((len(encoded), logits.shape[1]), dtype=np.float32)
        out[rows] = logits
    assert out is not None, "no rows to score"
    return out


def onnx_session(path: str, threads: int = 0) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def score(logits: npt.NDArray[np.float32], labels: npt.ArrayLike, names: Sequence[str]) -> dict[str, Any]:
    return metrics.report(labels, logits.argmax(axis=1), list(names))
