"""The fused graph's one undone fusion: ``SkipLayerNormalization`` written as ``Sum`` + ``LayerNormalization``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from frontier.trainer.fusion import unfuse_skip_layer_norm

pytestmark = pytest.mark.ml

TOKENS, CHANNELS = 5, 8


def graph(inputs: list[str], outputs: list[str]) -> Any:
    """One ``SkipLayerNormalization`` over x and skip ([1, 5, 8]) with the given optional inputs and outputs;
    every output it names is a graph output."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.normal(size=CHANNELS).astype(np.float32), n) for n in inputs[2:] if n]
    node = helper.make_node(
        "SkipLayerNormalization", inputs, outputs, name="layer/sln", domain="com.microsoft", epsilon=1e-5
    )

    def value(name: str) -> Any:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, TOKENS, CHANNELS])

    model = helper.make_model(
        helper.make_graph([node], "g", [value("x"), value("skip")], [value(o) for o in outputs if o], weights),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    onnx.checker.check_model(model)
    return model


def run(model: Any) -> list[Any]:
    import onnxruntime as ort

    rng = np.random.default_rng(1)
    feeds = {name: rng.normal(size=(1, TOKENS, CHANNELS)).astype(np.float32) for name in ("x", "skip")}
    return list(ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds))


@pytest.mark.parametrize(
    ("inputs", "outputs"),
    [
        (["x", "skip", "gamma", "beta", "bias"], ["y"]),
        (["x", "skip", "gamma", "beta"], ["y"]),
        (["x", "skip", "gamma", "", "bias"], ["y"]),
        (["x", "skip", "gamma", "beta", "bias"], ["y", "", "", "sum"]),
    ],
    ids=["gamma, beta and bias", "no bias", "no beta", "the residual sum read too"],
)
def test_a_skip_layer_norm_is_rewritten_as_sum_and_layer_norm_computing_the_same(
    inputs: list[str], outputs: list[str]
) -> None:
    import copy

    fused = graph(inputs, outputs)
    rewritten = copy.deepcopy(fused)
    assert unfuse_skip_layer_norm(rewritten) == 1
    assert [n.op_type for n in rewritten.graph.node] == ["Sum", "LayerNormalization"]
    for got, expected in zip(run(rewritten), run(fused), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_one_whose_statistics_are_read_is_left_fused() -> None:
    model = graph(["x", "skip", "gamma", "beta"], ["y", "mean"])
    assert unfuse_skip_layer_norm(model) == 0
    assert [n.op_type for n in model.graph.node] == ["SkipLayerNormalization"]
