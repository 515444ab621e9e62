"""INT8 against its fp32 parent through Triton: agreement, macro-F1, throughput at concurrency 8, same run.

    .venv/bin/python bench/precision_int8.py --artifact DIR --data ../shared/datasets/<set> \
        --manifest examples/<set>.yaml --data-root ../shared/datasets [--eval 2000]

DIR is a trained artifact (``frontier train`` / ``frontier run`` writes them) of MANIFEST. Its int8 model
is made again from its fp32 model with the trainer's current code (``frontier.trainer.quantize``: which
layers stay fp32 is decided on the manifest's eval split, as ``frontier train`` does), then both
precisions are published to the embedded Triton and measured together in interleaved rounds
(``frontier.serving.rounds``, the benchmark ``frontier run`` decides on) at one concurrency level.
Scored rows are ``--eval`` rows spread over the data set's test split, which neither training nor the
quantizer saw. Agreement is through Triton, against the fp32 model's own predictions (raw ONNX Runtime).
Prints the CPU and its flags.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from precision_agnews import cpu_description  # noqa: E402


def rows_of(directory: Path, split: str) -> list[dict[str, object]]:
    plain, packed = directory / f"{split}.jsonl", directory / f"{split}.jsonl.gz"
    text = plain.read_text() if plain.exists() else gzip.decompress(packed.read_bytes()).decode()
    return [json.loads(line) for line in text.split("\n") if line.strip()]


def _as_the_trainer_now_writes(fp32_path: Path, base_model: str) -> str:
    """An artifact made before the trainer fused its graph, or before it wrote ``SkipLayerNormalization`` as
    ``Sum`` + ``LayerNormalization``, is brought to the graph the trainer writes now; says what was done."""
    import onnx
    from transformers import AutoConfig

    from frontier.trainer.fusion import fuse, unfuse_skip_layer_norm
    from frontier.trainer.model_source import resolve_base_model

    model = onnx.load(str(fp32_path))
    if any(n.op_type == "Attention" for n in model.graph.node):
        if not unfuse_skip_layer_norm(model):
            return "as trained"
        onnx.save(model, str(fp32_path))
        return "as trained, SkipLayerNormalization rewritten as Sum + LayerNormalization here"
    fused = fp32_path.with_name("fused.onnx")
    if fuse(fp32_path, fused, AutoConfig.from_pretrained(resolve_base_model(base_model))) is None:
        return "as trained (not fusable)"
    fused.replace(fp32_path)
    return "fused here (exported before the trainer fused)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="a directory with train.jsonl and test.jsonl")
    parser.add_argument("--manifest", type=Path, required=True, help="the ClassifierModel the artifact was trained of")
    parser.add_argument("--data-root", type=Path, required=True, help="where the manifest's dataset URIs resolve")
    parser.add_argument("--eval", type=int, default=2000, help="test rows scored (spread over the split)")
    parser.add_argument("--calibration", type=int, default=256, help="stratified training rows (the spec default)")
    parser.add_argument("--min-agreement", type=float, default=0.99, help="export.minAgreement (the spec default)")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--instances", type=int, default=1, help="serving.instanceCount (the spec default: 1)")
    parser.add_argument("--threads", type=int, default=0, help="serving.intraOpThreads (the spec default: 0)")
    parser.add_argument("--queue-delay", type=int, default=None, help="dynamicBatching.maxQueueDelayMicroseconds")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()

    import numpy as np
    from transformers import AutoTokenizer

    from frontier.api.resource import load
    from frontier.api.spec import BenchmarkSpec, ServingSpec
    from frontier.artifact import describe_files, read_manifest, write_manifest
    from frontier.data.data import eval_split
    from frontier.data.sampling import stratified_sample
    from frontier.serving.local import LocalServing
    from frontier.serving.rounds import Contender
    from frontier.trainer.batching import encode
    from frontier.trainer.evaluation import onnx_logits, onnx_session
    from frontier.trainer.quantize import quantize_int8_dynamic

    work = Path(tempfile.mkdtemp(prefix="precision-int8-"))
    artifact = work / "artifact"
    shutil.copytree(args.artifact, artifact)
    manifest = read_manifest(artifact)
    labels = list(manifest.labels)
    tokenizer = AutoTokenizer.from_pretrained(str(artifact / "tokenizer"))
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    max_length, cut = manifest.max_length, manifest.truncation

    def index(label: object) -> int:
        return label if isinstance(label, int) else labels.index(str(label))

    train = rows_of(args.data, "train")
    train_gold = np.array([index(r["label"]) for r in train])
    picked = stratified_sample(train_gold, args.calibration, 0)
    calibration = encode(tokenizer, [str(train[int(i)]["text"]) for i in picked], max_length, names, cut)
    test = rows_of(args.data, "test")
    test = test[:: max(1, len(test) // args.eval)][: args.eval]
    texts, gold = [str(r["text"]) for r in test], [index(r["label"]) for r in test]

    trained_spec = load(args.manifest).spec
    candidate = next(c for c in trained_spec.candidates if c.name == manifest.candidate)
    held_out = eval_split(trained_spec.dataset, labels, args.data_root, candidate.hyperparameters.seed)
    check = encode(tokenizer, held_out.texts, max_length, names, cut)
    fp32_path = artifact / "model.fp32.onnx"
    graph = _as_the_trainer_now_writes(fp32_path, manifest.base_model)
    choice = quantize_int8_dynamic(fp32_path, artifact / "model.int8.onnx", calibration, check, args.min_agreement)
    entries = dict(manifest.precisions)
    entries["int8"] = entries["int8"].model_copy(update={"method": choice.method})
    write_manifest(artifact, manifest.model_copy(update={"files": describe_files(artifact), "precisions": entries}))
    reference = onnx_logits(onnx_session(str(fp32_path)), encode(tokenizer, texts, max_length, names, cut)).argmax(1)

    model_name, flags = cpu_description()
    print(f"{args.artifact} on {len(texts)} test rows of {args.data.name}")
    print(f"CPU: {model_name}, {os.cpu_count()} cores; flags: {' '.join(flags)}")
    print(f"fp32: {graph}")
    print(f"int8: {choice.method}", flush=True)

    # The spec's defaults, as the examples serve, unless asked otherwise.
    serving = ServingSpec(model_name="precision", instance_count=args.instances, intra_op_threads=args.threads)
    if args.queue_delay is not None:
        serving.dynamic_batching.max_queue_delay_microseconds = args.queue_delay
    print(
        f"serving: {args.instances} instance(s), {args.threads or 'runtime-chosen'} intra-op threads,"
        f" queue delay {serving.dynamic_batching.max_queue_delay_microseconds} µs"
    )
    spec = BenchmarkSpec(requests=args.requests, warmup_requests=50, concurrency=[args.concurrency])
    with LocalServing(work / "repository", "precision", serving, log_path=work / "triton.log") as local:
        contenders = []
        for number, precision in enumerate(("fp32", "int8"), start=1):
            local.publish(artifact, precision, number)
            contenders.append(
                Contender(number, local.repository.version_model(number), texts, gold, reference.tolist())
            )
        measured = local.measure(contenders, spec, labels)
    fp32, int8 = measured[1], measured[2]
    print(
        f"\n| precision | agreement with fp32 | macro-F1 (Δ points) | p50 ms at c={args.concurrency} "
        f"| throughput req/s at c={args.concurrency} [90 % interval] | vs fp32 |"
    )
    print("|---|---|---|---|---|---|")
    for name, m in (("fp32", fp32), ("int8", int8)):
        interval = m.throughput_interval_rps
        shown = f" [{interval.low:.1f}, {interval.high:.1f}]" if interval else ""
        print(
            f"| {name} | {m.agreement if m.agreement is not None else float('nan'):.4f} | {m.macro_f1:.4f} "
            f"({100 * (m.macro_f1 - fp32.macro_f1):+.2f}) | {m.p50_ms:.1f} | {m.throughput_rps:.1f}{shown} "
            f"| {m.throughput_rps / fp32.throughput_rps:.2f}× |"
        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {"cpu": model_name, "flags": flags, "fp32_graph": graph, "method": choice.method}
                | {"serving": serving.model_dump(mode="json", by_alias=True)}
                | {"tried": {str(attempt): value for attempt, value in choice.tried.items()}}
                | {"fp32": fp32.model_dump(mode="json"), "int8": int8.model_dump(mode="json")},
                indent=2,
            )
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
