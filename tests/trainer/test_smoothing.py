"""Channel smoothing moves a loud channel's range from the activations to the weights and changes nothing the
graph computes: the same logits before INT8, one scale per input channel shared by the layers that read it,
ranges from real tokens only, and a weight another node also reads left as it is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.batching import Encoded, collate
from frontier.trainer.smoothing import channel_ranges, smooth_channels, smoothing_scales

VOCAB, WIDTH, PAD, LOUD = 32, 8, 0, 3  # channel LOUD of every embedding is 50× the others


def _network(path: Path, tied: bool = False) -> Path:
    """ids → embedding [batch, tokens, WIDTH] → two linear layers reading the same activation (as Q and K
    do), summed → a third on their sum. With ``tied``, the third reuses the first's weight."""
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 1, (VOCAB, WIDTH)).astype(np.float32)
    embedding[:, LOUD] *= 50
    embedding[PAD] = 1000.0  # padding: never part of a range
    w = [rng.normal(0, 0.3, (WIDTH, WIDTH)).astype(np.float32) for _ in range(3)]
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["x"]),
        helper.make_node("MatMul", ["x", "w0"], ["a"], name="first"),
        helper.make_node("MatMul", ["x", "w1"], ["b"], name="second"),
        helper.make_node("Add", ["a", "b"], ["h"]),
        helper.make_node("MatMul", ["h", "w0" if tied else "w2"], ["y"], name="third"),
    ]
    graph = helper.make_graph(
        nodes,
        "network",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", WIDTH])],
        initializer=[numpy_helper.from_array(embedding, "embedding")]
        + [numpy_helper.from_array(weight, f"w{i}") for i, weight in enumerate(w)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _rows() -> Encoded:
    rng = np.random.default_rng(1)
    return Encoded([rng.integers(1, VOCAB, length).tolist() for length in (3, 7, 5, 8, 2, 6)], None, PAD)


def _outputs(path: Path, rows: Encoded) -> np.ndarray:
    feed = {"input_ids": collate(rows, range(len(rows)))["input_ids"].numpy()}
    return np.asarray(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["y"], feed)[0])


@pytest.mark.parametrize(
    ("activation_max", "weight_max", "alpha", "expected"),
    [
        ([4.0, 1.0], [1.0, 1.0], 0.5, [2.0, 1.0]),  # a loud channel is divided by √ of its range
        ([4.0, 1.0], [1.0, 4.0], 0.5, [2.0, 0.5]),  # a large weight row takes less
        ([4.0, 1.0], [1.0, 1.0], 1.0, [4.0, 1.0]),  # α 1: the whole range moves to the weights
        ([0.0, 1.0], [0.0, 1.0], 0.5, [1.0, 1.0]),  # a silent channel and a zero row: floored, finite
    ],
)
def test_smoothing_scales(
    activation_max: list[float], weight_max: list[float], alpha: float, expected: list[float]
) -> None:
    scales = smoothing_scales(np.array(activation_max), np.array(weight_max), alpha)
    np.testing.assert_allclose(scales, expected, rtol=1e-6)


def test_ranges_are_the_largest_magnitude_of_each_channel_over_real_tokens(tmp_path: Path) -> None:
    network, rows = _network(tmp_path / "network.onnx"), _rows()
    embedding = numpy_helper.to_array(onnx.load(str(network)).graph.initializer[0])
    real = np.abs(embedding[[token for row in rows.input_ids for token in row]]).max(axis=0)
    np.testing.assert_allclose(channel_ranges(network, rows, ["x"])["x"], real)


def test_the_smoothed_graph_computes_what_the_source_does(tmp_path: Path) -> None:
    network, rows = _network(tmp_path / "network.onnx"), _rows()
    smoothed = tmp_path / "smoothed.onnx"
    assert sorted(smooth_channels(network, smoothed, rows)) == ["h", "x"]
    np.testing.assert_allclose(_outputs(smoothed, rows), _outputs(network, rows), rtol=1e-4, atol=1e-3)
    model = onnx.load(str(smoothed))
    readers = {n.name: n.input[0] for n in model.graph.node if n.op_type == "MatMul"}
    assert readers == {"first": "x/smoothed", "second": "x/smoothed", "third": "h/smoothed"}  # one scale per input
    loud = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "x/smoothing"))
    assert np.argmin(loud) == LOUD  # the loud channel is divided the most


def test_a_tied_weight_is_left_as_it_is(tmp_path: Path) -> None:
    """``first`` and ``third`` share w0: scaling its rows for one would change the other."""
    network, rows = _network(tmp_path / "network.onnx", tied=True), _rows()
    smoothed = tmp_path / "smoothed.onnx"
    assert smooth_channels(network, smoothed, rows) == ["x"]  # only ``second`` reads x with a weight of its own
    np.testing.assert_allclose(_outputs(smoothed, rows), _outputs(network, rows), rtol=1e-4, atol=1e-3)
    w0 = next(i for i in onnx.load(str(smoothed)).graph.initializer if i.name == "w0")
    np.testing.assert_array_equal(
        numpy_helper.to_array(w0), numpy_helper.to_array(onnx.load(str(network)).graph.initializer[1])
    )
