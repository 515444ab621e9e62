"""Dynamic INT8 leaves in fp32 only the layers it must: on a small network one of whose linear layers has
a weight with outlier input rows (per-channel scales, one per output column, are then set by the
outliers and leave the other weights a few levels), that layer is measured the most sensitive, and it is
the one kept in fp32 when every layer in INT8 agrees too little with fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.batching import Encoded
from frontier.trainer.quantize import choose, goal_agreement, quantize_int8_dynamic, quantized_nodes, sensitivity

VOCAB, WIDTH, CLASSES, OUTLIERS = 64, 32, 3, (5, 11)
EMBEDDING = "/embeddings/word_embeddings/Gather"
LINEAR = ["/layer.0/dense/MatMul", "/layer.1/dense/MatMul", "/layer.2/dense/MatMul", "/head/MatMul"]


def _network(path: Path) -> Path:
    """input_ids → embedding → mean over tokens → three linear layers with ReLU → a linear head; and one
    product of two activations, which is no layer. Layer 1 reads two channels that layer 0 makes 80× small
    through weight rows 80× large: the same function, with a weight INT8 cannot hold."""
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 1, (VOCAB, WIDTH)).astype(np.float32)
    shapes = [(WIDTH, WIDTH)] * 3 + [(WIDTH, CLASSES)]
    weights = [rng.normal(0, 1 / np.sqrt(rows), (rows, cols)).astype(np.float32) for rows, cols in shapes]
    weights[0][:, list(OUTLIERS)] /= 80.0
    weights[1][list(OUTLIERS)] *= 80.0
    nodes = [
        helper.make_node("Gather", ["embedding", "input_ids"], ["tokens"], name=EMBEDDING),
        helper.make_node("ReduceMean", ["tokens"], ["h_in"], axes=[1], keepdims=0),
        helper.make_node("Mul", ["h_in", "h_in"], ["squared"], name="/not/a/layer/Mul"),
    ]
    current = "h_in"
    for index, name in enumerate(LINEAR):
        last = index == len(LINEAR) - 1
        out = "logits" if last else f"h{index}"
        nodes.append(helper.make_node("MatMul", [current, f"w{index}"], [out if last else f"{out}_linear"], name=name))
        if not last:
            nodes.append(helper.make_node("Relu", [f"{out}_linear"], [out]))
        current = out
    graph = helper.make_graph(
        nodes,
        "network",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES]),
            helper.make_tensor_value_info("squared", TensorProto.FLOAT, ["batch", WIDTH]),
        ],
        initializer=[numpy_helper.from_array(embedding, "embedding")]
        + [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate(weights)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _rows(count: int, seed: int) -> Encoded:
    """Rows of one length: the network reads no attention mask, so padding would change what it computes."""
    rng = np.random.default_rng(seed)
    return Encoded(rng.integers(0, VOCAB, (count, 8)).tolist(), None, 0)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _network(tmp_path_factory.mktemp("int8") / "network.onnx")


def test_the_quantized_layers_are_the_embedding_and_the_matmuls_with_a_weight(network: Path) -> None:
    assert quantized_nodes(network) == [EMBEDDING, *LINEAR]


def test_the_layer_whose_weight_has_outliers_is_the_most_sensitive(network: Path) -> None:
    assert sensitivity(network, _rows(64, seed=1))[0] == LINEAR[1]


@pytest.mark.parametrize(
    ("min_agreement", "kept", "met"),
    [
        (0.0, (), True),  # every layer in INT8 agrees enough: nothing is measured or kept
        (0.95, (LINEAR[1],), True),  # it does not: the most sensitive layer stays fp32, and that is enough
        # Never enough: 1, then 2 layers (half of the 5) are tried; the attempt that agreed most is kept.
        (1.0, (LINEAR[1], LINEAR[3]), False),
    ],
)
def test_dynamic_int8_keeps_in_fp32_only_what_agreement_asks_for(
    network: Path, tmp_path: Path, min_agreement: float, kept: tuple[str, ...], met: bool
) -> None:
    choice = quantize_int8_dynamic(
        network, tmp_path / "int8.onnx", _rows(64, seed=1), _rows(400, seed=2), min_agreement
    )
    assert choice.kept_fp32 == kept
    assert list(choice.tried) == list(range(len(kept) + 1))  # 0 in fp32, then 1, then 2
    assert choice.agreement == choice.tried[len(kept)] == max(choice.tried.values())
    assert (choice.agreement >= goal_agreement(min_agreement)) is met
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    assert {n.name for n in graph.node if n.op_type == "MatMul"} == set(kept)  # the other layers: integer products
    assert (f"{len(kept)} left in fp32" in choice.method) is bool(kept) and "400 eval rows" in choice.method


@pytest.mark.parametrize(
    ("tried", "chosen"),
    [
        ({0: 0.996}, 0),  # every layer in INT8 reaches the goal (0.995 for minAgreement 0.99)
        ({0: 0.98, 1: 0.993, 2: 0.9952, 4: 0.998}, 2),  # the fewest fp32 layers that reach it
        ({0: 0.98, 1: 0.991, 2: 0.992, 4: 0.994}, 1),  # none does: the fewest that pass the guard
        ({0: 0.95, 1: 0.97, 2: 0.985, 4: 0.985}, 2),  # none passes it: the most agreement, fewest of equals
    ],
)
def test_the_choice_takes_the_fewest_fp32_layers_that_agree_enough(tried: dict[int, float], chosen: int) -> None:
    assert choose(tried, goal_agreement(0.99), 0.99) == chosen
