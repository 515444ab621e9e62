"""INT8 recipes side by side on one fp32 ONNX classifier: agreement with fp32, macro-F1, batch dependence, speed.

    .venv/bin/python bench/int8_recipes.py --version-dir DIR --data JSONL [--rows 1000] [--calibration 256]

DIR is a served version directory (model.onnx, tokenizer/, labels.json). Rows are read from JSONL after the
first ``--skip`` rows (so a model trained on the first rows is scored on rows it never saw); calibration rows
come before the scored ones. For every recipe, in one run on this machine:
- agreement with the fp32 model and macro-F1, the rows run in batches of 32 in file order;
- batch dependence: the share of rows whose predicted label changes when the same rows are run one at a time
  (dynamic quantization takes each batch's activation range, so its predictions depend on the batch);
- raw ONNX Runtime throughput at batch 8 (2 threads) relative to fp32: the median of 5 back-to-back pairs.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from smoothing import smooth_linear_inputs
from tokenizers import Tokenizer

from frontier.data.metrics import macro_f1
from frontier.trainer.quantize import FEED_FORWARD_DOWN


def tokenizer_for(directory: Path, max_length: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    pad = tokenizer.token_to_id("[PAD]") or 0
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=pad, pad_token="[PAD]")
    return tokenizer


def encode(tokenizer: Tokenizer, texts: list[str], names: list[str]) -> dict[str, np.ndarray]:
    batch = tokenizer.encode_batch(texts)
    arrays = {
        "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
    }
    return {n: arrays[n] for n in names}


def session(path: Path, threads: int = 2) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def predict(sess: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str], batch: int) -> np.ndarray:
    names = [i.name for i in sess.get_inputs()]
    out = []
    for start in range(0, len(texts), batch):
        logits = sess.run(None, encode(tokenizer, texts[start : start + batch], names))[0]
        out.append(logits.argmax(axis=1))
    return np.concatenate(out)


def throughput(sess: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str], batch: int = 8) -> float:
    names = [i.name for i in sess.get_inputs()]
    feeds = [encode(tokenizer, texts[s : s + batch], names) for s in range(0, len(texts), batch)]
    sess.run(None, feeds[0])
    start = time.perf_counter()
    for feed in feeds:
        sess.run(None, feed)
    return len(texts) / (time.perf_counter() - start)


def weight_matmuls(path: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """The MatMul nodes with a weight (an initializer) as an input: the linear layers, not attention's
    activation-by-activation products; ``skip``: name fragments to leave in fp32."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    weights = {i.name for i in model.graph.initializer}
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and any(i in weights for i in n.input) and not any(f in n.name for f in skip)
    ]


def speed_ratio(
    fp32: ort.InferenceSession, variant: ort.InferenceSession, tokenizer: Tokenizer, texts: list[str], rounds: int = 5
) -> float:
    """Median over rounds of variant/fp32 throughput, the two measured back to back in alternating order, so
    that drift on a shared machine hits both alike."""
    ratios = []
    for r in range(rounds):
        first, second = (fp32, variant) if r % 2 == 0 else (variant, fp32)
        a, b = throughput(first, tokenizer, texts), throughput(second, tokenizer, texts)
        ratios.append(b / a if first is fp32 else a / b)
    return float(np.median(ratios))


def recipes(calibration: Callable[[], Any]) -> dict[str, Callable[[Path, Path], None]]:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static

    def dynamic(per_channel: bool, nodes: tuple[str, ...] | None = None) -> Callable[[Path, Path], None]:
        return lambda src, dst: quantize_dynamic(
            src,
            dst,
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=None if nodes is None else ["MatMul"],
            nodes_to_quantize=None if nodes is None else weight_matmuls(src, nodes),
        )

    def static(
        per_channel: bool,
        method: Any,
        ops: list[str] | None,
        symmetric: bool = False,
        nodes: tuple[str, ...] | None = None,
        fmt: Any = QuantFormat.QDQ,
    ) -> Callable[[Path, Path], None]:
        def run(src: Path, dst: Path) -> None:
            quantize_static(
                src,
                dst,
                calibration(),
                quant_format=fmt,
                weight_type=QuantType.QInt8,
                activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8,
                per_channel=per_channel,
                calibrate_method=method,
                op_types_to_quantize=ops,
                nodes_to_quantize=None if nodes is None else weight_matmuls(src, nodes),
                extra_options={
                    "ActivationSymmetric": symmetric,
                    "CalibMovingAverage": method == CalibrationMethod.MinMax,
                },
            )

        return run

    down = tuple(f"layer.{i}/output/dense/MatMul" for i in range(48))

    def smoothed(alpha: float, then: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
        """SmoothQuant on the feed-forward down-projections' inputs, then ``then`` on the smoothed model."""

        def run(src: Path, dst: Path) -> None:
            reader = calibration()
            batches = iter(reader.get_next, None)
            middle = Path(dst).with_name("smoothed.onnx")
            smooth_linear_inputs(Path(src), middle, batches, FEED_FORWARD_DOWN, alpha)
            then(middle, dst)

        return run

    return {
        "smoothed 0.5 + dynamic per-channel": smoothed(0.5, dynamic(True)),
        "smoothed 0.8 + dynamic per-channel": smoothed(0.8, dynamic(True)),
        "smoothed 0.5 + static QOperator per-channel MinMax, linear MatMuls": smoothed(
            0.5, static(True, CalibrationMethod.MinMax, ["MatMul"], nodes=(), fmt=QuantFormat.QOperator)
        ),
        "smoothed 0.8 + static QOperator per-channel MinMax, linear MatMuls": smoothed(
            0.8, static(True, CalibrationMethod.MinMax, ["MatMul"], nodes=(), fmt=QuantFormat.QOperator)
        ),
        "dynamic per-tensor (today's default)": dynamic(False),
        "dynamic per-channel, linear MatMuls but FFN down": dynamic(True, down),
        "static QOperator per-channel MinMax, linear MatMuls but FFN down": static(
            True, CalibrationMethod.MinMax, ["MatMul"], nodes=down, fmt=QuantFormat.QOperator
        ),
        "static QOperator per-channel MinMax, linear MatMuls": static(
            True, CalibrationMethod.MinMax, ["MatMul"], nodes=(), fmt=QuantFormat.QOperator
        ),
        "dynamic per-channel": dynamic(True),
        "static QDQ per-tensor MinMax, all ops": static(False, CalibrationMethod.MinMax, None),
        "static QDQ per-channel MinMax, MatMul": static(True, CalibrationMethod.MinMax, ["MatMul"]),
        "static QDQ per-channel MinMax, linear MatMuls": static(True, CalibrationMethod.MinMax, ["MatMul"], nodes=()),
        "static QDQ per-channel MinMax, linear MatMuls but FFN down": static(
            True, CalibrationMethod.MinMax, ["MatMul"], nodes=tuple(f"layer.{i}/output/dense/MatMul" for i in range(48))
        ),
        "static QDQ per-channel Percentile, linear MatMuls": static(
            True, CalibrationMethod.Percentile, ["MatMul"], nodes=()
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--skip", type=int, default=5000, help="rows to skip (those the model was trained on)")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--calibration", type=int, default=256)
    parser.add_argument("--only", nargs="*", default=None, help="recipe name prefixes to run")
    args = parser.parse_args()

    meta = json.loads((args.version_dir / "labels.json").read_text())
    labels: list[str] = meta["labels"]
    tokenizer = tokenizer_for(args.version_dir / "tokenizer", int(meta["max_length"]))
    lines = args.data.read_text().splitlines()[args.skip : args.skip + args.calibration + args.rows]
    rows = [json.loads(line) for line in lines]
    calib_texts = [r["text"] for r in rows[: args.calibration]]
    texts = [r["text"] for r in rows[args.calibration :]]
    truth = np.array(
        [r["label"] if isinstance(r["label"], int) else labels.index(r["label"]) for r in rows[args.calibration :]]
    )

    fp32_path = args.version_dir / "model.onnx"
    fp32 = session(fp32_path)
    names = [i.name for i in fp32.get_inputs()]
    reference = predict(fp32, tokenizer, texts, 32)
    base_f1 = macro_f1(truth, reference, len(labels))
    base_rps = throughput(fp32, tokenizer, texts)
    cpu = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    print(f"{args.version_dir} on {len(texts)} rows; CPU {cpu}")
    print(f"fp32: macro-F1 {base_f1:.4f}, {base_rps:.0f} rows/s at batch 8")
    print("| recipe | agreement | macro-F1 (Δ points) | batch-dependent rows | speed vs fp32 |")
    print("|---|---|---|---|---|")

    class Reader:
        def __init__(self) -> None:
            fixed = tokenizer_for(args.version_dir / "tokenizer", int(meta["max_length"]))
            fixed.enable_padding(
                pad_id=fixed.token_to_id("[PAD]") or 0, pad_token="[PAD]", length=int(meta["max_length"])
            )
            self.batches = iter([encode(fixed, calib_texts[s : s + 16], names) for s in range(0, len(calib_texts), 16)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        for name, quantize in recipes(Reader).items():
            if args.only and not any(name.startswith(p) for p in args.only):
                continue
            target = Path(tmp) / "int8.onnx"
            quantize(fp32_path, target)
            sess = session(target)
            batched = predict(sess, tokenizer, texts, 32)
            single = predict(sess, tokenizer, texts, 1)
            f1 = macro_f1(truth, batched, len(labels))
            agreement = float((batched == reference).mean())
            dependent = float((batched != single).mean())
            speed = speed_ratio(fp32, sess, tokenizer, texts)
            delta = 100 * (f1 - base_f1)
            row = f"| {name} | {agreement:.4f} | {f1:.4f} ({delta:+.2f}) | {dependent:.4f} | {speed:.2f}× |"
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
