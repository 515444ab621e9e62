"""Which INT8 kernels keep a trained artifact's agreement and its speed: raw ONNX Runtime, one run.

    .venv/bin/python bench/int8_kernels.py --artifact DIR --manifest examples/<set>.yaml \
        --data-root ../shared/datasets --data ../shared/datasets/<set> \
        [--forms batch,smoothed,token,blocks8-32,blocks8-128,blocks4-32]

Made from the artifact's fp32 graph, each form: ``batch`` (onnxruntime's dynamic quantization, a scale per batch:
the chooser's first attempt), ``smoothed`` (the same after channel smoothing on 256 stratified training rows, the
feed-forward down-projections token-wise: its second), ``token`` (``frontier.trainer.token_int8``, a scale per row
for the linear layers: its third), ``blocksB-K`` (onnxruntime's weight-only ``MatMulNBits`` at B bits, blocks of K,
``accuracy_level`` 4: int8 compute, the activations quantized per row and block inside the kernel; attention and
the embeddings then as ``batch``). Agreement is with fp32's labels on the manifest's eval split, alone and in
batches of 64, as the chooser counts it. Speed: every form and fp32 in shuffled order, 10 rounds of 150 single rows
and of 60 random batches of 4 (the batches Triton forms at concurrency 8 on 2 cores); the median of each round's
fp32 time over the form's.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from precision_agnews import cpu_description  # bench/ is on the path when run as a script
from precision_int8 import rows_of


def make(form: str, graphs: Any, target: Path) -> Path:
    from frontier.trainer import quantize

    fp32 = graphs.fp32
    scales = {"batch": quantize.Scales.BATCH, "smoothed": quantize.Scales.SMOOTHED, "token": quantize.Scales.TOKEN}
    if form in scales:
        quantize._quantize(graphs, target, quantize.Attempt(scales[form]), [])
    elif form.startswith("blocks"):
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        bits, block = (int(x) for x in form.removeprefix("blocks").split("-"))
        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(fp32)), bits=bits, block_size=block, is_symmetric=True, accuracy_level=4
        )
        quantizer.process()
        blocks = target.with_suffix(".blocks.onnx")
        quantizer.model.save_model_to_file(str(blocks), False)
        quantize._quantize_dynamic(blocks, target, ())
    else:
        raise SystemExit(f"--forms: unknown form {form!r}")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--manifest", type=Path, required=True, help="the ClassifierModel the artifact was trained of")
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="the data set's directory (train.jsonl[.gz])")
    parser.add_argument("--forms", default="batch,smoothed,token,blocks8-32,blocks8-128,blocks4-32")
    args = parser.parse_args()

    import onnxruntime as ort
    from transformers import AutoTokenizer

    from frontier.api.resource import load
    from frontier.artifact import read_manifest
    from frontier.data.data import eval_split
    from frontier.data.sampling import stratified_sample
    from frontier.trainer.batching import collate, encode
    from frontier.trainer.evaluation import onnx_logits, onnx_session
    from frontier.trainer.quantize import _Graphs

    manifest = read_manifest(args.artifact)
    tokenizer = AutoTokenizer.from_pretrained(str(args.artifact / "tokenizer"))
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    spec = load(args.manifest).spec
    candidate = next(c for c in spec.candidates if c.name == manifest.candidate)
    held_out = eval_split(spec.dataset, list(manifest.labels), args.data_root, candidate.hyperparameters.seed)
    rows = encode(tokenizer, held_out.texts, manifest.max_length, inputs, manifest.truncation)
    labels = list(manifest.labels)
    train = rows_of(args.data, "train")
    gold = np.array([r["label"] if isinstance(r["label"], int) else labels.index(str(r["label"])) for r in train])
    picked = stratified_sample(gold, 256, 0)
    calibration = encode(
        tokenizer, [str(train[int(i)]["text"]) for i in picked], manifest.max_length, inputs, manifest.truncation
    )
    fp32 = args.artifact / "model.fp32.onnx"
    forms = args.forms.split(",")
    scratch = Path(tempfile.mkdtemp(prefix="int8-kernels-"))
    graphs = _Graphs(fp32, calibration, scratch)
    paths = {"fp32": fp32} | {form: make(form, graphs, scratch / f"{form}.onnx") for form in forms}

    reference = onnx_logits(onnx_session(str(fp32)), rows).argmax(1)
    results: dict[str, dict[str, Any]] = {}
    for form in forms:
        session = onnx_session(str(paths[form]))
        alone, batched = onnx_logits(session, rows, 1).argmax(1), onnx_logits(session, rows).argmax(1)
        results[form] = {"agreement": float(((alone == reference) & (batched == reference)).mean())}

    sessions = {
        name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]) for name, path in paths.items()
    }
    shuffle = random.Random(0)
    for size, count in ((1, 150), (4, 60)):
        feeds = [
            {k: v.numpy() for k, v in collate(rows, shuffle.sample(range(len(rows)), size)).items() if k in inputs}
            for _ in range(count)
        ]
        ratios: dict[str, list[float]] = {form: [] for form in forms}
        for _ in range(10):
            order = list(paths)
            shuffle.shuffle(order)
            seconds = {}
            for name in order:
                start = time.perf_counter()
                for feed in feeds:
                    sessions[name].run(None, feed)
                seconds[name] = time.perf_counter() - start
            for form in forms:
                ratios[form].append(seconds["fp32"] / seconds[form])
        for form in forms:
            results[form][f"speed_batch{size}"] = float(np.median(ratios[form]))

    model_name, flags = cpu_description()
    print(f"{args.artifact}: {len(rows)} eval rows; CPU: {model_name}; flags: {' '.join(flags)}")
    print("\n| form | agreement with fp32 (alone and batched) | × fp32 at batch 1 | × fp32 at batch 4 |")
    print("|---|---|---|---|")
    for form, r in results.items():
        print(f"| {form} | {r['agreement']:.4f} | {r['speed_batch1']:.2f}× | {r['speed_batch4']:.2f}× |")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
