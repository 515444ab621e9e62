"""INT8 linear layers whose activations have one scale per token (row), not one per batch.

onnxruntime's dynamic quantization gives a linear layer's input one scale for the whole batch: one token
with a wide range (a long review's outlier, a neighbour in Triton's batch) coarsens every other token's
levels, and what a row predicts depends on its batch-mates. Token-wise scales (ZeroQuant, Yao et al. 2022)
fix both: each row of the input is scaled by its own largest magnitude to symmetric int8 (stored as uint8
around a zero point of 128, the form onnxruntime's u8×s8 integer kernels take), multiplied with the int8
weights (symmetric, one scale per output column) by ``MatMulInteger``, and the int32 products are scaled back.
Built from standard ONNX ops, so the graph runs wherever ONNX Runtime does. Measured on MiniLM (IMDB, 128
tokens): 0.9925 agreement with fp32 against the batch-wide scale's 0.983, at 1.71× fp32 against its 1.95×.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

ZERO_POINT, LEVELS, EPSILON = "token_int8/zero_point", "token_int8/inverse_levels", "token_int8/epsilon"
OFFSET, AXES = "token_int8/offset", "token_int8/axes"


def quantize_token_int8(source: Path, target: Path, nodes: Collection[str]) -> list[str]:
    """Rewrite each ``MatMul`` of ``nodes`` whose second input is a weight; returns the names rewritten."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
    weights = {initializer.name: initializer for initializer in graph.initializer}
    rewritten: list[str] = []
    nodes_out: list[Any] = []
    for node in graph.node:
        if node.op_type != "MatMul" or node.name not in nodes or node.input[1] not in weights:
            nodes_out.append(node)
            continue
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        quantized, scales = _int8_columns(weight)
        prefix = f"{node.name}/token_int8"
        graph.initializer.extend(
            [numpy_helper.from_array(quantized, f"{prefix}/weight"), numpy_helper.from_array(scales, f"{prefix}/scale")]
        )
        nodes_out.extend(_token_int8_nodes(helper, TensorProto, node.input[0], node.output[0], prefix, opset))
        rewritten.append(node.name)
    if rewritten:
        graph.initializer.extend(
            [
                helper.make_tensor(ZERO_POINT, TensorProto.UINT8, [], [128]),
                numpy_helper.from_array(np.array(1 / 127, np.float32), LEVELS),
                numpy_helper.from_array(np.array(1e-12, np.float32), EPSILON),
                numpy_helper.from_array(np.array(128, np.float32), OFFSET),
                numpy_helper.from_array(np.array([-1], np.int64), AXES),
            ]
        )
    del graph.node[:]
    graph.node.extend(nodes_out)
    onnx.save(model, str(target))
    return rewritten


def _int8_columns(weight: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Symmetric int8 weights, one scale per output column (``weight`` is [in, out], as MatMul reads it)."""
    scales = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127
    return np.clip(np.round(weight / scales), -127, 127).astype(np.int8), scales.astype(np.float32)


def _token_int8_nodes(helper: Any, types: Any, x: str, y: str, prefix: str, opset: int) -> list[Any]:
    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> Any:
        return helper.make_node(op, inputs, [output], name=f"{prefix}/{op}_{output.rsplit('/', 1)[-1]}", **attributes)

    # ReduceMax reads its axes from an attribute before opset 18 and from an input since.
    row_max = (
        node("ReduceMax", [f"{prefix}/abs", AXES], f"{prefix}/range", keepdims=1)
        if opset >= 18
        else node("ReduceMax", [f"{prefix}/abs"], f"{prefix}/range", axes=[-1], keepdims=1)
    )
    return [
        node("Abs", [x], f"{prefix}/abs"),
        row_max,
        node("Max", [f"{prefix}/range", EPSILON], f"{prefix}/range_nonzero"),
        node("Mul", [f"{prefix}/range_nonzero", LEVELS], f"{prefix}/row_scale"),
        node("Div", [x, f"{prefix}/row_scale"], f"{prefix}/scaled"),
        node("Round", [f"{prefix}/scaled"], f"{prefix}/rounded"),
        node("Add", [f"{prefix}/rounded", OFFSET], f"{prefix}/offset"),
        node("Cast", [f"{prefix}/offset"], f"{prefix}/levels", to=types.UINT8),
        node("MatMulInteger", [f"{prefix}/levels", f"{prefix}/weight", ZERO_POINT], f"{prefix}/products"),
        node("Cast", [f"{prefix}/products"], f"{prefix}/products_float", to=types.FLOAT),
        node("Mul", [f"{prefix}/products_float", f"{prefix}/row_scale"], f"{prefix}/row_scaled"),
        node("Mul", [f"{prefix}/row_scaled", f"{prefix}/scale"], y),
    ]
