"""Reduced-precision variants of the fp32 ONNX model.

int8: onnxruntime quantization, per-channel weights (one scale per output column: per-tensor weights
lost a point of agreement with fp32 on AG News, ``bench/int8_recipes.py``). ``dynamic`` (the default)
quantizes activations on the fly with a range taken from each batch, so a row's prediction can change
with what Triton's dynamic batcher puts beside it. Which layers it quantizes is chosen per model, by
agreement with fp32 on the calibration rows (``DYNAMIC_RECIPES``, fastest first): every linear layer;
else every linear layer with the feed-forward down-projections' inputs smoothed (``smoothing``: the
GELU's outlier channels set one scale for all, and cost the most accuracy); else all but those layers.
``static`` calibrates activation ranges on training rows
(``export.int8.calibrationSamples``) and writes a QDQ model whose predictions do not depend on the batch;
it quantizes only the linear layers (MatMuls with a weight) but the feed-forward down-projections, whose
inputs (after GELU) have the widest ranges: attention's activation-by-activation products, those layers
and a Gemm classifier head stay fp32. Measured on MiniLM (AG News, SST-2): every op quantized lost 62
points of macro-F1; all linear layers 96-98 % agreement; without the down-projections 99.1-99.3 %.

bf16: onnxruntime's CPU provider has no bf16 kernels (MatMul, Add, Softmax… are float/double only),
so a bf16-*compute* graph would not run where Frontier serves by default. What is produced instead is a
bf16-*weights* model: every float initializer is rounded to bfloat16 and stored as such (half the
size), with a Cast back to float32 in front of its users, so the numbers the model computes with are
exactly the bf16-rounded weights and the graph runs on any provider. The method string says so.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frontier.errors import TrainingError
from frontier.trainer.batching import Encoded, collate, inference_batches
from frontier.trainer.evaluation import onnx_logits, onnx_session
from frontier.trainer.smoothing import ALPHA, smooth_linear_inputs

DYNAMIC_METHOD = "onnxruntime dynamic quantization (QInt8 weights per channel, dynamic activations): {recipe}"
STATIC_METHOD = (
    "onnxruntime static quantization (QDQ, linear layers but the feed-forward down-projections: QInt8 weights"
    " per channel, QUInt8 activations; {n} calibration rows)"
)
# Feed-forward down-projections by their exported names: BERT-family, DistilBERT, Llama/Qwen, GPT-style.
FEED_FORWARD_DOWN = re.compile(r"layer\.\d+/output/dense/|ffn/lin2/|mlp/down_proj/|mlp/c_proj/|/fc2/")
BF16_METHOD = "bf16 weights (initializers rounded to bfloat16), fp32 compute: onnxruntime CPU has no bf16 kernels"
MIN_BF16_ELEMENTS = 16  # small tensors (shape constants, scalars) stay float32


@dataclass(frozen=True)
class DynamicRecipe:
    name: str
    smoothing: float | None = None
    """SmoothQuant's α for the feed-forward down-projections' inputs; None: not smoothed."""
    skip_feed_forward_down: bool = False


DYNAMIC_RECIPES = (
    DynamicRecipe("every linear layer"),
    DynamicRecipe(f"every linear layer, feed-forward down-projection inputs smoothed (α {ALPHA})", smoothing=ALPHA),
    DynamicRecipe("linear layers but the feed-forward down-projections", skip_feed_forward_down=True),
)


@dataclass(frozen=True)
class Int8Choice:
    recipe: DynamicRecipe
    method: str
    agreements: dict[str, float]
    """Agreement with fp32 on the calibration rows of each recipe tried, in order."""


def quantize_int8_dynamic(
    source: Path, target: Path, calibration: Encoded, input_names: list[str], min_agreement: float
) -> Int8Choice:
    """The fastest recipe of ``DYNAMIC_RECIPES`` that agrees with fp32 on at least ``min_agreement`` of
    the calibration rows; when none does, the one that agrees most, the faster on a tie (a slower recipe
    that buys no agreement is not worth its speed; the agreement guard then decides)."""
    reference = onnx_logits(onnx_session(str(source)), calibration).argmax(axis=1)
    agreements: dict[str, float] = {}
    for recipe in DYNAMIC_RECIPES:
        _quantize_dynamic(source, target, recipe, calibration, input_names)
        predicted = onnx_logits(onnx_session(str(target)), calibration).argmax(axis=1)
        agreements[recipe.name] = float((predicted == reference).mean())
        if agreements[recipe.name] >= min_agreement:
            break
    else:
        recipe = max(DYNAMIC_RECIPES, key=lambda r: agreements[r.name])  # the first of equals: the fastest
        if recipe is not DYNAMIC_RECIPES[-1]:
            _quantize_dynamic(source, target, recipe, calibration, input_names)
    tried = ", ".join(f"{name} {value:.4f}" for name, value in agreements.items())
    method = DYNAMIC_METHOD.format(recipe=recipe.name) + f" (agreement on {len(calibration)} calibration rows: {tried})"
    return Int8Choice(recipe, method, agreements)


def _quantize_dynamic(
    source: Path, target: Path, recipe: DynamicRecipe, calibration: Encoded, input_names: list[str]
) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="frontier-int8-") as scratch:
        model = source
        if recipe.smoothing is not None:
            model = Path(scratch) / "smoothed.onnx"
            batches = _calibration_batches(calibration, input_names)
            smooth_linear_inputs(source, model, batches, FEED_FORWARD_DOWN, recipe.smoothing)
        excluded = feed_forward_down_nodes(model) if recipe.skip_feed_forward_down else []
        try:
            quantize_dynamic(
                str(model), str(target), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=excluded
            )
        except Exception as error:  # onnxruntime.quantization raises plain Exceptions
            raise TrainingError(f"export.precisions int8: dynamic quantization failed: {error}") from None


def _calibration_batches(encoded: Encoded, input_names: list[str], batch_size: int = 16) -> Iterator[dict[str, Any]]:
    for rows in inference_batches(encoded.lengths(), batch_size):
        yield {k: v.numpy() for k, v in collate(encoded, rows).items() if k in input_names}


def feed_forward_down_nodes(source: Path) -> list[str]:
    import onnx

    model = onnx.load(str(source), load_external_data=False)
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and FEED_FORWARD_DOWN.search(n.name)]


def static_int8_nodes(source: Path) -> list[str]:
    """The MatMul nodes with a weight (an initializer) as an input, the linear layers, but the feed-forward
    down-projections."""
    import onnx

    model = onnx.load(str(source), load_external_data=False)
    weights = {initializer.name for initializer in model.graph.initializer}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and any(i in weights for i in n.input) and not FEED_FORWARD_DOWN.search(n.name)
    ]


def quantize_int8_static(source: Path, target: Path, calibration: Encoded, input_names: list[str]) -> str:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.batches = _calibration_batches(calibration, input_names)

        def get_next(self) -> dict[str, Any] | None:
            return next(self.batches, None)

    try:
        quantize_static(
            str(source),
            str(target),
            Reader(),
            quant_format=QuantFormat.QDQ,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=["MatMul"],
            nodes_to_quantize=static_int8_nodes(source),
        )
    except Exception as error:  # onnxruntime.quantization raises plain Exceptions
        raise TrainingError(f"export.precisions int8: static quantization failed: {error}") from None
    return STATIC_METHOD.format(n=len(calibration))


def convert_bf16_weights(source: Path, target: Path) -> str:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    casts = []
    kept = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < MIN_BF16_ELEMENTS:
            kept.append(init)
            continue
        values = numpy_helper.to_array(init).astype(np.float32)
        # Round to nearest even bf16: keep the top 16 bits of the float32 pattern after rounding.
        bits = values.view(np.uint32).astype(np.uint64)
        rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
        stored = helper.make_tensor(
            init.name + "__bf16", TensorProto.BFLOAT16, list(init.dims), rounded.tobytes(), raw=True
        )
        kept.append(stored)
        casts.append(
            helper.make_node("Cast", [stored.name], [init.name], to=TensorProto.FLOAT, name=init.name + "__to_fp32")
        )
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return BF16_METHOD
