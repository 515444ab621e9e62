"""Which layers static INT8 quantizes: the linear layers (MatMuls with a weight) but the feed-forward
down-projections, named as each architecture exports them; products of two activations stay fp32."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.quantize import static_int8_nodes

LAYERS = [
    # (exported node name, second input is a weight, quantized)
    ("/model/encoder/encoder/layer.0/attention/self/query/MatMul", True, True),
    ("/model/encoder/encoder/layer.0/attention/output/dense/MatMul", True, True),
    ("/model/encoder/encoder/layer.0/intermediate/dense/MatMul", True, True),
    ("/model/encoder/encoder/layer.11/output/dense/MatMul", True, False),  # BERT-family feed-forward down
    ("/model/distilbert/transformer/layer.0/ffn/lin2/MatMul", True, False),  # DistilBERT
    ("/model/model/layers.0/mlp/down_proj/MatMul", True, False),  # Llama, Qwen
    ("/model/model/layers.0/mlp/up_proj/MatMul", True, True),
    ("/model/encoder/encoder/layer.0/attention/self/MatMul", False, False),  # Q·Kᵀ: two activations
]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    nodes, weights = [], []
    for index, (name, weighted, _) in enumerate(LAYERS):
        second = f"w{index}" if weighted else "x"
        if weighted:
            weights.append(numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), second))
        nodes.append(helper.make_node("MatMul", ["x", second], [f"y{index}"], name=name))
    graph = helper.make_graph(
        nodes,
        "layers",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [4, 4]) for i in range(len(LAYERS))],
        initializer=weights,
    )
    path = tmp_path_factory.mktemp("onnx") / "layers.onnx"
    onnx.save(helper.make_model(graph), str(path))
    return path


@pytest.mark.parametrize(("name", "weighted", "quantized"), LAYERS, ids=[n for n, _, _ in LAYERS])
def test_static_int8_quantizes_linear_layers_but_feed_forward_down(
    model_path: Path, name: str, weighted: bool, quantized: bool
) -> None:
    assert (name in static_int8_nodes(model_path)) is quantized
