"""Dynamic INT8 pays only for the accuracy it must: batch-wide activation scales, else the same on a graph
whose loud channels were smoothed into the weights, else token-wise scales, else the most sensitive layers in
fp32. On a small network one of whose linear layers has a weight with outlier input rows (per-channel
scales, one per output column, are then set by the outliers and leave the other weights a few levels),
smoothing moves most of that range back to the quiet activations, and the layer is measured the most
sensitive and is the one kept in fp32 when more is asked; on one where a loud word's rows set the batch's
scale, smoothing channels is not enough and token-wise scales are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from frontier.trainer.batching import Encoded
from frontier.trainer.quantize import (
    SCALES_METHOD,
    Attempt,
    Scales,
    choose,
    goal_agreement,
    quantize_int8_dynamic,
    quantized_nodes,
    sensitivity,
)

VOCAB, WIDTH, CLASSES, OUTLIERS = 64, 32, 3, (5, 11)
EMBEDDING = "/embeddings/word_embeddings/Gather"
LINEAR = ["/layer.0/dense/MatMul", "/layer.1/dense/MatMul", "/layer.2/dense/MatMul", "/head/MatMul"]


def _network(path: Path, outlier_weights: bool = True, loud_word: float = 1.0) -> Path:
    """input_ids → embedding → mean over tokens → three linear layers with ReLU → a linear head; and one
    product of two activations, which is no layer. Layer 1 reads two channels that layer 0 makes 80× small
    through weight rows 80× large: the same function, with a weight INT8 cannot hold. Word 0's embedding is
    ``loud_word`` times the others'."""
    rng = np.random.default_rng(0)
    embedding = rng.normal(0, 1, (VOCAB, WIDTH)).astype(np.float32)
    embedding[0] *= loud_word
    shapes = [(WIDTH, WIDTH)] * 3 + [(WIDTH, CLASSES)]
    weights = [rng.normal(0, 1 / np.sqrt(rows), (rows, cols)).astype(np.float32) for rows, cols in shapes]
    if outlier_weights:
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


def _rows(count: int, seed: int, loud_every: int = 0) -> Encoded:
    """Rows of one length (the network reads no attention mask, so padding would change what it computes);
    with ``loud_every``, every so many rows open with word 0 four times."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1 if loud_every else 0, VOCAB, (count, 8))
    if loud_every:
        ids[::loud_every, :4] = 0
    return Encoded(ids.tolist(), None, 0)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _network(tmp_path_factory.mktemp("int8") / "network.onnx")


def test_the_quantized_layers_are_the_embedding_and_the_matmuls_with_a_weight(network: Path) -> None:
    assert quantized_nodes(network) == [EMBEDDING, *LINEAR]


def test_the_layer_whose_weight_has_outliers_is_the_most_sensitive(network: Path) -> None:
    assert sensitivity(network, _rows(64, seed=1))[0] == LINEAR[1]


BATCH, SMOOTHED, TOKEN = Attempt(Scales.BATCH), Attempt(Scales.SMOOTHED), Attempt(Scales.TOKEN)


def _token(fp32_layers: int) -> Attempt:
    return Attempt(Scales.TOKEN, fp32_layers)


@pytest.mark.parametrize(
    ("min_agreement", "tried", "kept", "met"),
    [
        (0.0, [BATCH], (), True),  # every layer in INT8 agrees enough: nothing is measured or kept
        (0.95, [BATCH, SMOOTHED], (), True),  # smoothing gives the outlier rows' range back to the activations
        # Asked more, neither it nor token-wise scales do (the trouble is a weight): the most sensitive stays fp32.
        (0.985, [BATCH, SMOOTHED, TOKEN, _token(1)], (LINEAR[1],), True),
        # Never enough: 1, then 2 layers (half of the 5) are tried; the attempt that agreed most is kept.
        (1.0, [BATCH, SMOOTHED, TOKEN, _token(1), _token(2)], (LINEAR[1],), False),
    ],
)
def test_dynamic_int8_keeps_in_fp32_only_what_agreement_asks_for(
    network: Path, tmp_path: Path, min_agreement: float, tried: list[Attempt], kept: tuple[str, ...], met: bool
) -> None:
    choice = quantize_int8_dynamic(
        network, tmp_path / "int8.onnx", _rows(64, seed=1), _rows(400, seed=2), min_agreement
    )
    assert list(choice.tried) == tried
    assert choice.kept_fp32 == kept
    assert choice.agreement == choice.tried[choice.attempt] == max(choice.tried.values())
    assert (choice.agreement >= goal_agreement(min_agreement)) is met
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    assert {n.name for n in graph.node if n.op_type == "MatMul"} == set(kept)  # the other layers: integer products
    assert (f"{len(kept)} left in fp32" in choice.method) is bool(kept) and "400 eval rows" in choice.method
    assert SCALES_METHOD[choice.attempt.scales] in choice.method


def test_when_a_loud_word_sets_the_batch_scale_token_wise_scales_are_enough(tmp_path: Path) -> None:
    """Word 0 is 8× louder than the rest: in a batch-wide scale it leaves the quiet rows of its batch few
    levels, and a row's answer depends on whether a loud row is beside it. The loudness is the row's, in
    every channel, so smoothing channels does not remove it; scaled per row, it does not matter."""
    loud = _network(tmp_path / "loud.onnx", outlier_weights=False, loud_word=8.0)
    choice = quantize_int8_dynamic(
        loud, tmp_path / "int8.onnx", _rows(64, seed=1, loud_every=4), _rows(400, seed=2, loud_every=4), 0.98
    )
    assert list(choice.tried) == [BATCH, SMOOTHED, TOKEN]
    assert max(choice.tried[BATCH], choice.tried[SMOOTHED]) < goal_agreement(0.98) <= choice.tried[TOKEN]
    assert choice.attempt == TOKEN and choice.kept_fp32 == ()
    graph = onnx.load(str(tmp_path / "int8.onnx")).graph
    assert sum(n.op_type == "MatMulIntegerToFloat" for n in graph.node) == len(LINEAR)
    assert "scaled per token" in choice.method


@pytest.mark.parametrize(
    ("tried", "chosen"),
    [
        ({BATCH: 0.996}, BATCH),  # batch-wide scales reach the goal (0.995 for minAgreement 0.99)
        ({BATCH: 0.98, SMOOTHED: 0.9952, TOKEN: 0.998}, SMOOTHED),  # the first attempt that reaches it
        ({BATCH: 0.98, SMOOTHED: 0.99, TOKEN: 0.9952, _token(1): 0.998}, TOKEN),
        ({BATCH: 0.98, TOKEN: 0.991, _token(1): 0.992, _token(2): 0.994}, TOKEN),  # none: the guard
        ({BATCH: 0.95, TOKEN: 0.97, _token(1): 0.985, _token(2): 0.985}, _token(1)),  # most
    ],
)
def test_the_choice_takes_the_fastest_attempt_that_agrees_enough(tried: dict[Attempt, float], chosen: Attempt) -> None:
    assert choose(tried, goal_agreement(0.99), 0.99) == chosen


@pytest.mark.parametrize(
    ("attempt", "layers", "following"),
    [
        (BATCH, 24, SMOOTHED),
        (SMOOTHED, 24, TOKEN),
        (TOKEN, 24, _token(1)),
        (_token(4), 24, _token(8)),
        (_token(8), 24, _token(12)),  # at most half of the layers
        (_token(12), 24, None),
        (TOKEN, 1, None),  # one layer: none may stay fp32
    ],
)
def test_attempts_grow_from_batch_scales_to_smoothed_to_token_scales_to_layers_in_fp32(
    attempt: Attempt, layers: int, following: Attempt | None
) -> None:
    assert attempt.then(layers) == following
