"""SmoothQuant on a feed-forward down-projection: the smoothed fp32 model computes the same outputs, and
its dynamic INT8 quantization is closer to fp32 when a few input channels carry outliers (as a GELU's
output does in a trained transformer)."""

import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.quantize import FEED_FORWARD_DOWN
from frontier.trainer.smoothing import smooth_linear_inputs

DOWN = "/model/encoder/encoder/layer.0/output/dense/MatMul"
OTHER = "/model/encoder/encoder/layer.0/attention/output/dense/MatMul"
CHANNELS, OUTPUTS, OUTLIERS = 64, 16, (3, 17)


def _model(path: Path) -> Path:
    """x → down-projection (smoothed) → y; x → another linear layer (left alone) → z."""
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.normal(0, 0.05, (CHANNELS, OUTPUTS)).astype(np.float32), "w_down"),
        numpy_helper.from_array(rng.normal(0, 0.05, (CHANNELS, OUTPUTS)).astype(np.float32), "w_other"),
    ]
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w_down"], ["y"], name=DOWN),
            helper.make_node("MatMul", ["x", "w_other"], ["z"], name=OTHER),
        ],
        "feed_forward",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", CHANNELS])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", OUTPUTS]) for n in ("y", "z")],
        initializer=weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _activations(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (rows, CHANNELS)).astype(np.float32)
    x[:, list(OUTLIERS)] *= 60.0
    return x


def _run(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip(("y", "z"), session.run(["y", "z"], {"x": x}), strict=True))


@pytest.fixture
def models(tmp_path: Path) -> tuple[Path, Path]:
    original = _model(tmp_path / "original.onnx")
    smoothed = tmp_path / "smoothed.onnx"
    calibration = [{"x": _activations(32, seed)} for seed in range(4)]
    assert smooth_linear_inputs(original, smoothed, calibration, FEED_FORWARD_DOWN) == [DOWN]
    return original, smoothed


def test_smoothing_changes_no_output(models: tuple[Path, Path]) -> None:
    original, smoothed = models
    x = _activations(50, seed=99)
    before, after = _run(original, x), _run(smoothed, x)
    np.testing.assert_allclose(after["y"], before["y"], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(after["z"], before["z"])  # a layer not named a down-projection is untouched


def test_smoothing_moves_the_outliers_into_the_weight(models: tuple[Path, Path]) -> None:
    original, smoothed = models
    weight = {
        p: {i.name: numpy_helper.to_array(i) for i in onnx.load(str(p)).graph.initializer}["w_down"]
        for p in (original, smoothed)
    }
    rows_grown = np.abs(weight[smoothed]).max(axis=1) / np.abs(weight[original]).max(axis=1)
    ordinary = [c for c in range(CHANNELS) if c not in OUTLIERS]
    assert rows_grown[list(OUTLIERS)].min() > 5 * rows_grown[ordinary].max()


def test_smoothed_dynamic_int8_is_closer_to_fp32(models: tuple[Path, Path], tmp_path: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    original, smoothed = models
    errors = {}
    x = _activations(200, seed=7)
    reference = _run(original, x)["y"]
    for path in (original, smoothed):
        quantized = tmp_path / f"{path.stem}.int8.onnx"
        quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        errors[path.stem] = float(np.abs(_run(quantized, x)["y"] - reference).mean())
    assert errors["smoothed"] < 0.5 * errors["original"]


def test_without_a_matching_layer_the_model_is_copied(tmp_path: Path) -> None:
    original = _model(tmp_path / "original.onnx")
    copy = tmp_path / "copy.onnx"
    assert smooth_linear_inputs(original, copy, [], re.compile("no-such-layer")) == []
    x = _activations(5, seed=1)
    np.testing.assert_array_equal(_run(copy, x)["y"], _run(original, x)["y"])
