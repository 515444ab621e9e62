"""Channel smoothing (SmoothQuant) of an fp32 graph, so that one INT8 scale per batch suits every channel.

A transformer's activations carry a few channels far louder than the rest (LayerNorm outputs, GELU
outputs); a batch-wide activation scale is set by them and leaves every other channel a few levels. The
weights, quantized per output column, have room to spare. SmoothQuant (Xiao et al. 2023) moves the range
from one to the other: each input channel j of a linear layer is divided by
``s_j = max|X_j|^α / max|W_j|^(1-α)`` and the weight's row j multiplied by it. The product is the same
(fp32 in, fp32 out: the smoothed graph computes what the exported one does); what INT8 rounds is not. The
ranges ``max|X_j|`` come from calibration rows (real tokens only, not padding).

The division is a ``Mul`` in front of the layer (one pass over its input), because the tensor it reads may
also feed a residual that must see the unsmoothed values. Measured on MiniLM (eval rows; SST-2, AG News,
six topics; session 13, bench/RESULTS.md): α 0.8 agreed with fp32 more than 0.5 on all three.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frontier.trainer.batching import Encoded, collate, inference_batches

ALPHA = 0.8
SMOOTHED_OPS = ("MatMul", "Attention")  # linear layers whose second input is the weight, [in, out]
FLOOR = 1e-5
CALIBRATION_BATCH = 16

Ranges = dict[str, npt.NDArray[np.float32]]


def smooth_channels(source: Path, target: Path, calibration: Encoded, alpha: float = ALPHA) -> list[str]:
    """Write ``source`` with the inputs of its linear layers smoothed; returns the names of the inputs."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    layers = _smoothable(model)
    ranges = channel_ranges(source, calibration, list(layers))
    weights = {initializer.name: initializer for initializer in graph.initializer}
    inserted: dict[str, Any] = {}
    for activation, nodes in layers.items():
        rows = [numpy_helper.to_array(weights[n.input[1]]).astype(np.float32) for n in nodes]
        scales = smoothing_scales(ranges[activation], np.max([np.abs(r).max(axis=1) for r in rows], axis=0), alpha)
        for node, weight in zip(nodes, rows, strict=True):
            weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scales[:, None], node.input[1]))
            node.input[0] = f"{activation}/smoothed"
        graph.initializer.append(numpy_helper.from_array((1 / scales).astype(np.float32), f"{activation}/smoothing"))
        inserted[activation] = helper.make_node(
            "Mul", [activation, f"{activation}/smoothing"], [f"{activation}/smoothed"], name=f"{activation}/Smooth"
        )
    nodes_out = [inserted[i.name] for i in graph.input if i.name in inserted]
    for node in graph.node:
        nodes_out.append(node)
        nodes_out.extend(inserted[output] for output in node.output if output in inserted)
    del graph.node[:]
    graph.node.extend(nodes_out)
    onnx.save(model, str(target))
    return list(layers)


def smoothing_scales(
    activation_max: npt.NDArray[np.float32], weight_max: npt.NDArray[np.float32], alpha: float = ALPHA
) -> npt.NDArray[np.float32]:
    """``s_j = max|X_j|^α / max|W_j|^(1-α)``, both floored so a silent channel or a zero row stays finite."""
    scales = np.maximum(activation_max, FLOOR) ** alpha / np.maximum(weight_max, FLOOR) ** (1 - alpha)
    return np.asarray(np.maximum(scales, FLOOR), dtype=np.float32)


def channel_ranges(source: Path, calibration: Encoded, activations: list[str]) -> Ranges:
    """The largest magnitude of each channel (the last axis) of ``activations`` over the calibration rows'
    real tokens."""
    import onnx
    import onnxruntime as ort

    probe = onnx.load(str(source))
    for name in activations:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    ranges: Ranges = {}
    for rows in inference_batches(calibration.lengths(), CALIBRATION_BATCH):
        batch = collate(calibration, rows)
        real = batch["attention_mask"].numpy().astype(bool)
        values = session.run(activations, {k: v.numpy() for k, v in batch.items() if k in inputs})
        for name, value in zip(activations, values, strict=True):
            tokens = value[real] if value.shape[:2] == real.shape else value.reshape(-1, value.shape[-1])
            largest = np.abs(tokens).max(axis=0)
            ranges[name] = np.maximum(ranges[name], largest) if name in ranges else largest
    return ranges


def _smoothable(model: Any) -> dict[str, list[Any]]:
    """The linear layers by the activation they read: a tensor may feed several (Q, K and V unfused).
    Left out: layers whose weight another node reads too (tied weights), which one scaling would change
    for both."""
    weights = {initializer.name for initializer in model.graph.initializer}
    readers: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    layers: dict[str, list[Any]] = {}
    for node in model.graph.node:
        if (
            node.op_type in SMOOTHED_OPS
            and len(node.input) > 1
            and node.input[1] in weights
            and node.input[0] not in weights
            and readers[node.input[1]] == 1
        ):
            layers.setdefault(node.input[0], []).append(node)
    return layers
