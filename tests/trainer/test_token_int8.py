"""A token-wise INT8 linear layer computes what its docstring says: each row of the input scaled by its own
largest magnitude to 255 levels (rounded half up), multiplied with per-column int8 weights, scaled back per
row and per column; so a row's output does not depend on the rows beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.token_int8 import quantize_token_int8

IN, OUT = 48, 24
LINEAR = "/layer/dense/MatMul"


def _linear(path: Path, opset: int) -> npt.NDArray[np.float32]:
    weight = np.random.default_rng(0).normal(0, 0.2, (IN, OUT)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name=LINEAR)],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", IN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", OUT])],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return weight


def _expected(x: npt.NDArray[np.float32], weight: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The arithmetic by hand."""
    column_scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127
    weight_levels = np.clip(np.round(weight / column_scale), -127, 127)
    row_range = np.maximum(np.abs(x).max(axis=-1, keepdims=True), np.float32(1e-12))
    levels = np.floor(x * (np.float32(127) / row_range) + np.float32(0.5))  # half up
    return (levels @ weight_levels) * (column_scale / 127) * row_range


@pytest.mark.parametrize("opset", [17, 18])  # ReduceMax takes its axes as an attribute, then as an input
def test_each_row_is_scaled_by_its_own_range(tmp_path: Path, opset: int) -> None:
    weight = _linear(tmp_path / "fp32.onnx", opset)
    assert quantize_token_int8(tmp_path / "fp32.onnx", tmp_path / "int8.onnx", {LINEAR}) == [LINEAR]
    x = np.random.default_rng(1).normal(0, 1, (3, 5, IN)).astype(np.float32)
    x[0, 0] *= 50  # a loud token: with a batch-wide scale it would leave the others few levels
    session = ort.InferenceSession(str(tmp_path / "int8.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x})[0]
    np.testing.assert_allclose(got, _expected(x, weight), rtol=1e-4, atol=1e-5)
    alone = np.concatenate([session.run(None, {"x": x[i : i + 1]})[0] for i in range(len(x))])
    np.testing.assert_array_equal(alone, got)  # its batch-mates change nothing
    assert "w" not in {i.name for i in onnx.load(str(tmp_path / "int8.onnx")).graph.initializer}  # nor fp32 weights


def test_only_the_named_layers_with_a_weight_are_rewritten(tmp_path: Path) -> None:
    _linear(tmp_path / "fp32.onnx", 17)
    assert quantize_token_int8(tmp_path / "fp32.onnx", tmp_path / "same.onnx", {"/another/MatMul"}) == []
    ops = [n.op_type for n in onnx.load(str(tmp_path / "same.onnx")).graph.node]
    assert ops == ["MatMul"]
