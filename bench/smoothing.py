"""Equalize the input channels of a linear layer before INT8 quantization (SmoothQuant, Xiao et al. 2023).

A few input channels of a transformer's feed-forward down-projection (the GELU's output) carry values
tens of times larger than the rest; one INT8 scale for the whole activation is set by them and the
other channels keep a few levels. Dividing channel ``j`` by ``s_j`` and multiplying row ``j`` of the
weight by ``s_j`` computes the same product (``(x / s) · (diag(s) W) = x W``) while moving the range
from the activation, quantized per tensor, to the weight, quantized per output channel:
``s_j = max|x_j|^α / max|W_j|^(1-α)``. Where the layer before is a LayerNorm the division can be folded
into it; in front of a GELU it cannot, so an explicit ``Mul`` by ``1 / s`` is inserted (an elementwise
op, small next to the MatMul it makes quantizable).

The smoothed fp32 model computes what the original does up to float rounding; the ranges ``max|x_j|``
come from calibration rows run through the original model.

Used by ``int8_recipes.py`` only: the trainer once had it as a rung of its INT8 ladder; it now leaves the
layers that measure most sensitive in fp32 instead (``frontier.trainer.quantize``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]

ALPHA = 0.8
"""Most of the range moved to the weights: on MiniLM (AG News) α 0.5 agreed with fp32 on 97.6 % of rows,
α 0.8 on 99.5 % (``bench/int8_recipes.py``)."""
SMALLEST_SCALE = 1e-5


def smooth_linear_inputs(
    source: Path,
    target: Path,
    batches: Iterable[dict[str, npt.NDArray[Any]]],
    names: re.Pattern[str],
    alpha: float = ALPHA,
) -> list[str]:
    """Write to ``target`` the model at ``source`` with the inputs of the MatMul nodes whose names match
    ``names`` (and whose second input is a weight) smoothed; returns the smoothed nodes' names."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    layers = [
        node
        for node in graph.node
        if node.op_type == "MatMul"
        and names.search(node.name)
        and node.input[1] in weights
        and users[node.input[1]] == 1  # a shared weight cannot be scaled for one user
    ]
    if not layers:
        onnx.save(model, str(target))
        return []
    ranges = _input_ranges(model, [node.input[0] for node in layers], batches)
    for node in layers:
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        scale = _scale(ranges[node.input[0]], np.abs(weight).max(axis=1), alpha)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        inverse = f"{node.name}/smooth_inverse"
        graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), inverse))
        smoothed = f"{node.input[0]}/smoothed_for/{node.name}"
        mul = helper.make_node("Mul", [node.input[0], inverse], [smoothed], name=f"{node.name}/smooth")
        node.input[0] = smoothed
        position = list(graph.node).index(node)
        graph.node.insert(position, mul)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return [node.name for node in layers]


def _scale(activation_max: Array, weight_max: Array, alpha: float) -> Array:
    scale = np.power(np.maximum(activation_max, SMALLEST_SCALE), alpha) / np.power(
        np.maximum(weight_max, SMALLEST_SCALE), 1.0 - alpha
    )
    clipped: Array = np.maximum(scale, SMALLEST_SCALE).astype(np.float32)
    return clipped


def _input_ranges(model: Any, inputs: list[str], batches: Iterable[dict[str, npt.NDArray[Any]]]) -> dict[str, Array]:
    """Per-channel max |x| of each tensor in ``inputs`` over the calibration batches, read by running a
    copy of the model that also outputs them."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    existing = {output.name for output in probe.graph.output}
    for name in inputs:
        if name not in existing:
            probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    ranges: dict[str, Array] = {}
    for feed in batches:
        values = session.run(inputs, feed)
        for name, value in zip(inputs, values, strict=True):
            channel_max = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            ranges[name] = channel_max if name not in ranges else np.maximum(ranges[name], channel_max)
    if len(ranges) != len(inputs):
        raise ValueError("no calibration rows: smoothing needs at least one batch")
    return ranges
