"""Reduced-precision variants of the fp32 ONNX model.

int8: onnxruntime quantization, per-channel weights (one scale per output column: per-tensor weights
lost a point of agreement with fp32 on AG News, ``bench/int8_recipes.py``). ``dynamic`` (the default)
quantizes activations on the fly. It quantizes the fp32 graph as served (fused, see ``fusion``) and decides
per model, by agreement with fp32 on the eval rows, how much accuracy to buy (``Attempt``): onnxruntime's
range per batch (the fastest; a row's prediction can change with what Triton's dynamic batcher puts beside
it); else the same on a graph whose loud channels were smoothed into the weights (``smoothing``), with a
range per token for the feed-forward down-projections (``token_int8``); else a range per token for every
linear layer; else also the most sensitive layers in fp32, measured (``sensitivity``). On MiniLM the first
layers' feed-forward products cost the most: an error made there is carried through every later layer.
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

import logging
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from frontier.errors import TrainingError
from frontier.trainer.batching import Encoded, collate, inference_batches
from frontier.trainer.evaluation import EVAL_BATCH, onnx_logits, onnx_session
from frontier.trainer.smoothing import ALPHA, smooth_channels
from frontier.trainer.token_int8 import quantize_token_int8

DYNAMIC_METHOD = (
    "dynamic quantization (QInt8 weights per channel, {scales}) of {graph}: {layers}"
    " (agreement with fp32 on {rows} eval rows, alone and batched: {tried})"
)
BATCH_SCALES = "activations scaled per batch: onnxruntime"
SMOOTHED_SCALES = (
    f"loud channels smoothed into the weights (SmoothQuant, α {ALPHA}, ranges from the calibration rows),"
    " activations scaled per batch but the feed-forward down-projections' per token (MatMulIntegerToFloat)"
)
TOKEN_SCALES = (
    "the linear layers' activations scaled per token (MatMulIntegerToFloat), attention's and the embeddings' per batch"
)
STATIC_METHOD = (
    "onnxruntime static quantization (QDQ, linear layers but the feed-forward down-projections: QInt8 weights"
    " per channel, QUInt8 activations; {n} calibration rows)"
)
# Feed-forward down-projections by their exported names: BERT-family, DistilBERT, Llama/Qwen, GPT-style.
FEED_FORWARD_DOWN = re.compile(r"layer\.\d+/output/dense/|ffn/lin2/|mlp/down_proj/|mlp/c_proj/|/fc2/")
BF16_METHOD = "bf16 weights (initializers rounded to bfloat16), fp32 compute: onnxruntime CPU has no bf16 kernels"
MIN_BF16_ELEMENTS = 16  # small tensors (shape constants, scalars) stay float32
# What dynamic quantization turns to INT8, when a weight is among the node's inputs: linear layers (MatMul;
# a fused graph's Attention holds the QKV projection) and embedding tables (Gather; EmbedLayerNormalization).
QUANTIZED_OPS = ("MatMul", "Attention", "Gather", "EmbedLayerNormalization")
SENSITIVITY_ROWS = 64


class Scales(Enum):
    """How a linear layer's activations are scaled to INT8."""

    BATCH = "batch-wide"
    """One range per batch (onnxruntime's dynamic quantization)."""
    SMOOTHED = "smoothed"
    """One range per batch after channel smoothing (``smoothing``); the feed-forward down-projections, whose
    inputs (after GELU) are loud per token rather than per channel, one range per token."""
    TOKEN = "token-wise"
    """One range per token for every linear layer (``token_int8``); attention and the embeddings per batch."""


@dataclass(frozen=True)
class Attempt:
    """One way to quantize. They are tried fastest first, each meant to fix what the one before could not.
    Measured on MiniLM at 64 tokens (SST-2, raw ONNX Runtime, bench/RESULTS.md): batch-wide
    1.73–1.88× fp32 at batch 1 and 1.84–2.14× at batch 4; smoothed 1.50× and 1.83×; token-wise 1.37–1.60×
    and 1.27–1.68×; layers left in fp32 only add fp32 work. Smoothed agreed with fp32 as well as token-wise
    or better on three data sets (SST-2, AG News, six topics: 0.9990, 0.9975, 0.9954 against 0.9975, 0.9945,
    0.9954); token-wise still helps where a whole row is loud (a word that sets the batch's range), which
    smoothing channels does not fix. Weight-only 8-bit blocks with int8 compute (onnxruntime's
    ``MatMulNBits``) agreed about as well as token-wise and were no faster: not an attempt."""

    scales: Scales
    fp32_layers: int = 0
    """How many of the most sensitive weighted layers stay fp32 (token-wise attempts only)."""

    def __str__(self) -> str:
        return f"{self.scales.value} scales, {self.fp32_layers} in fp32"

    def then(self, layers: int) -> Attempt | None:
        """The next attempt: batch-wide, smoothed, token-wise scales, then 1, 2, 4… of ``layers`` in fp32
        (token-wise), up to half of them."""
        if self.scales is not Scales.TOKEN:
            return Attempt(Scales.SMOOTHED if self.scales is Scales.BATCH else Scales.TOKEN)
        most = layers // 2
        following = min(max(1, 2 * self.fp32_layers), most)
        return Attempt(Scales.TOKEN, following) if following > self.fp32_layers else None


@dataclass(frozen=True)
class Int8Choice:
    attempt: Attempt
    kept_fp32: tuple[str, ...]
    """The weighted layers left in fp32, the most sensitive first."""
    agreement: float
    tried: dict[Attempt, float]
    """Agreement with fp32 on the check rows of each attempt, in the order tried."""
    method: str


def goal_agreement(min_agreement: float) -> float:
    """What the chooser asks of its own rows: half the disagreement ``minAgreement`` allows. The other
    half is left for what dynamic batching changes when the version is measured through Triton."""
    return 1.0 - (1.0 - min_agreement) / 2


def quantize_int8_dynamic(
    source: Path,
    target: Path,
    calibration: Encoded,
    check: Encoded,
    min_agreement: float,
) -> Int8Choice:
    """Every weighted layer in INT8 with onnxruntime's batch-wide activation scales, unless that disagrees
    with fp32 on more of the ``check`` rows (the eval set) than ``goal_agreement`` allows; then on a graph
    smoothed on the calibration rows (``smoothing``); then the linear layers with token-wise scales
    (``token_int8``); then, on top, the layers whose quantization moves the logits most (``sensitivity``, on
    calibration rows) in fp32, 1, 2, 4… of them, up to half (``Attempt``). The first attempt that reaches
    the goal is kept; when none does, the first that reaches ``min_agreement`` (a point of agreement more
    is not worth much speed), else the one that agreed most, and the agreement guard decides. A row agrees
    when int8 gives fp32's label both alone and in a batch of ``EVAL_BATCH``: a batch-wide scale depends on
    the batch, and Triton's batcher mixes rows."""
    reference = _labels(source, check)
    goal = goal_agreement(min_agreement)
    tried: dict[Attempt, float] = {}
    ranking: list[str] = []
    layers = len(quantized_nodes(source))
    with tempfile.TemporaryDirectory(prefix="frontier-int8-") as scratch:
        graphs = _Graphs(source, calibration, Path(scratch))
        attempt: Attempt | None = Attempt(Scales.BATCH)
        while attempt is not None:
            if attempt.fp32_layers and not ranking:
                # Calibration rows are a stratified sample: any prefix of them is one too.
                ranking = sensitivity(source, calibration.take(range(min(SENSITIVITY_ROWS, len(calibration)))))
            _quantize(graphs, target, attempt, ranking)
            tried[attempt] = _agreement(target, check, reference)
            if tried[attempt] >= goal:
                break
            attempt = attempt.then(layers)
        chosen = choose(tried, goal, min_agreement)
        if chosen != list(tried)[-1]:
            _quantize(graphs, target, chosen, ranking)
    kept = tuple(ranking[: chosen.fp32_layers])
    return Int8Choice(chosen, kept, tried[chosen], tried, _describe(source, chosen, kept, len(check), tried))


def choose(tried: dict[Attempt, float], goal: float, min_agreement: float) -> Attempt:
    """The first attempt (meant to be the fastest) reaching the goal, else ``min_agreement``, else the most
    agreement."""
    for threshold in (goal, min_agreement):
        enough = [attempt for attempt, agreement in tried.items() if agreement >= threshold]
        if enough:
            return enough[0]
    return max(tried, key=lambda attempt: tried[attempt])  # the first of equals


@dataclass
class _Graphs:
    """The fp32 graph an attempt quantizes; the smoothed one is made when an attempt first asks for it."""

    fp32: Path
    calibration: Encoded
    scratch: Path

    @cached_property
    def smoothed(self) -> Path:
        path = self.scratch / "smoothed.onnx"
        smooth_channels(self.fp32, path, self.calibration)
        return path


def _quantize(graphs: _Graphs, target: Path, attempt: Attempt, ranking: list[str]) -> None:
    kept = tuple(ranking[: attempt.fp32_layers])
    if attempt.scales is Scales.BATCH:
        _quantize_dynamic(graphs.fp32, target, kept)
        return
    source = graphs.smoothed if attempt.scales is Scales.SMOOTHED else graphs.fp32
    per_token = feed_forward_down_nodes(source) if attempt.scales is Scales.SMOOTHED else quantized_nodes(source)
    with tempfile.TemporaryDirectory(prefix="frontier-int8-") as scratch:
        token_wise = Path(scratch) / "token-wise.onnx"
        quantize_token_int8(source, token_wise, set(per_token) - set(kept))
        _quantize_dynamic(token_wise, target, kept)  # the layers left: per batch


def sensitivity(source: Path, calibration: Encoded) -> list[str]:
    """The quantized nodes (``quantized_nodes``), those whose INT8 quantization changes the logits most
    first: the mean squared logit error against fp32 with every other node quantized (token-wise scales,
    as the attempts that keep layers in fp32 are) and that one left in fp32 (the lower, the more that node
    costs). Errors made early are carried through every later layer, so position matters as much as the
    node's own rounding error; leaving one out measures both."""
    reference = onnx_logits(onnx_session(str(source)), calibration)
    errors: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="frontier-int8-") as scratch:
        graphs = _Graphs(source, calibration, Path(scratch))
        probe = Path(scratch) / "probe.onnx"
        for node in quantized_nodes(source):
            _quantize(graphs, probe, Attempt(Scales.TOKEN, fp32_layers=1), [node])
            errors[node] = float(np.mean((onnx_logits(onnx_session(str(probe)), calibration) - reference) ** 2))
    return sorted(errors, key=lambda node: errors[node])


def quantized_nodes(source: Path) -> list[str]:
    """The nodes dynamic INT8 quantizes: ``QUANTIZED_OPS`` with a weight (an initializer) among their inputs."""
    import onnx

    model = onnx.load(str(source), load_external_data=False)
    weights = {initializer.name for initializer in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type in QUANTIZED_OPS and any(i in weights for i in n.input)]


def _quantize_dynamic(source: Path, target: Path, kept_fp32: tuple[str, ...]) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    advice = _DropAdvice()  # onnxruntime advises shape pre-processing on every call, on the root logger
    logging.getLogger().addFilter(advice)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(kept_fp32),
            # A fused graph's contrib ops (Attention, SkipLayerNormalization…) have no inferred output types.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    except Exception as error:  # onnxruntime.quantization raises plain Exceptions
        raise TrainingError(f"export.precisions int8: dynamic quantization failed: {error}") from None
    finally:
        logging.getLogger().removeFilter(advice)


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def _labels(path: Path, rows: Encoded, batch_size: int = EVAL_BATCH) -> npt.NDArray[np.int64]:
    return np.asarray(onnx_logits(onnx_session(str(path)), rows, batch_size).argmax(axis=1), dtype=np.int64)


def _agreement(path: Path, rows: Encoded, reference: npt.NDArray[np.int64]) -> float:
    alone, batched = _labels(path, rows, 1), _labels(path, rows)
    return float(((alone == reference) & (batched == reference)).mean())


SCALES_METHOD = {Scales.BATCH: BATCH_SCALES, Scales.SMOOTHED: SMOOTHED_SCALES, Scales.TOKEN: TOKEN_SCALES}


def _describe(source: Path, chosen: Attempt, kept: tuple[str, ...], rows: int, tried: dict[Attempt, float]) -> str:
    import onnx

    fused = any(n.op_type == "Attention" for n in onnx.load(str(source), load_external_data=False).graph.node)
    layers = "every weighted layer" + (f" but {len(kept)} left in fp32 ({', '.join(kept)})" if kept else "")
    return DYNAMIC_METHOD.format(
        graph="the fused graph" if fused else "the exported graph",
        scales=SCALES_METHOD[chosen.scales],
        layers=layers,
        rows=rows,
        tried=", ".join(f"{attempt} {value:.4f}" for attempt, value in tried.items()),
    )


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
