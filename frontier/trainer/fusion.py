"""Operator fusion of an exported encoder with onnxruntime's transformer optimizer.

ONNX Runtime's own session optimizations do not recognise the attention the TorchScript exporter writes
out (matmul → mask → softmax → matmul, plus the reshapes of every head); the offline optimizer
(``onnxruntime.transformers.optimizer``) does: each layer's attention becomes one ``Attention`` op,
residual + LayerNorm ``SkipLayerNormalization``, bias + GELU ``BiasGelu``, the embeddings
``EmbedLayerNormalization`` (MiniLM: 527 nodes → about 60). What dynamic INT8 then quantizes is the
fused graph: attention's three input projections become one ``QAttention`` with one activation scale
instead of three, and the ops between the matrix products, which precision does not shrink, are fewer
(bench/RESULTS.md, "fused graph"). Only BERT-family encoders are fused (the optimizer's ``bert``
patterns); decoders stay as exported. The fused graph must pass the same parity check as the export,
else the export is kept as it is: fusion is an optimisation, never a change of what the model computes.

One fusion is undone: onnxruntime's CPU ``SkipLayerNormalization`` (1.32) is slower than the ops it
replaces — 136 µs against 47 µs for a ``Sum`` and a ``LayerNormalization`` of 128 tokens × 384 channels,
2 threads; 260 against 49 µs on one (session 14, bench/RESULTS.md) — which made MiniLM's INT8 9–17 %
slower and its fp32 2–6 %. Each becomes ``Sum`` (input, skip, bias) → ``LayerNormalization``: a ``Sum``,
not two ``Add``s, because the session's own optimizer fuses ``Add`` → ``LayerNormalization`` back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontier.errors import TrainingError

SKIP_LAYER_NORM = "SkipLayerNormalization"
# transformers' config.model_type → the optimizer's model_type whose fusion patterns fit its export.
FUSABLE = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "electra": "bert", "distilbert": "bert"}


@dataclass(frozen=True)
class Fusion:
    fused: dict[str, int]
    """The fused operators the optimizer made, by type (only those it made)."""

    def describe(self) -> str:
        return "onnxruntime transformer fusions: " + ", ".join(f"{op} ×{n}" for op, n in sorted(self.fused.items()))


def attention_shape(config: Any) -> tuple[int, int] | None:
    """(heads, hidden size) from a transformers config, under either family's names."""
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "n_heads", None)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "dim", None)
    return (int(heads), int(hidden)) if heads and hidden else None


def fuse(source: Path, target: Path, config: Any) -> Fusion | None:
    """Write the fused graph of ``source`` to ``target``; None (and nothing written) when the
    architecture is not one the optimizer fuses, or it fused no attention."""
    kind = FUSABLE.get(str(getattr(config, "model_type", "")))
    shape = attention_shape(config)
    if kind is None or shape is None:
        return None
    from onnxruntime.transformers.optimizer import optimize_model

    quiet = logging.getLogger("onnxruntime.transformers")
    level, quiet.level = quiet.level, logging.ERROR
    try:
        optimized = optimize_model(str(source), model_type=kind, num_heads=shape[0], hidden_size=shape[1], opt_level=1)
    except Exception as error:  # the optimizer raises plain Exceptions for graphs it cannot read
        raise TrainingError(f"ONNX fusion failed: {type(error).__name__}: {error}") from None
    finally:
        quiet.level = level
    made = {op: int(n) for op, n in optimized.get_fused_operator_statistics().items() if n}
    if not made.get("Attention"):
        return None
    if rewritten := unfuse_skip_layer_norm(optimized.model):
        made.pop(SKIP_LAYER_NORM, None)
        made[f"{SKIP_LAYER_NORM} as Sum + LayerNormalization"] = rewritten
    optimized.save_model_to_file(str(target))
    return Fusion(made)


def unfuse_skip_layer_norm(model: Any) -> int:
    """Rewrite every ``SkipLayerNormalization`` of ``model`` (in place) as ``Sum`` → ``LayerNormalization``;
    returns how many. One whose mean or inverse-deviation outputs are read (training graphs) is left."""
    from onnx import helper

    nodes, rewritten = [], 0
    for node in model.graph.node:
        outputs = list(node.output) + [""] * (4 - len(node.output))
        if node.op_type != SKIP_LAYER_NORM or outputs[1] or outputs[2]:
            nodes.append(node)
            continue
        inputs = list(node.input) + [""] * (5 - len(node.input))
        x, skip, gamma, beta, bias = inputs[:5]
        epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-12)
        summed = outputs[3] or f"{node.name}/sum"
        nodes.append(helper.make_node("Sum", [x, skip] + ([bias] if bias else []), [summed], name=f"{node.name}/Sum"))
        normed = [summed, gamma] + ([beta] if beta else [])
        nodes.append(
            helper.make_node(
                "LayerNormalization", normed, [outputs[0]], name=f"{node.name}/LayerNorm", axis=-1, epsilon=epsilon
            )
        )
        rewritten += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return rewritten
