"""Serving benchmark: a MiniLM classifier through the embedded Triton vs raw ONNX Runtime, on AG News texts.

    .venv/bin/python bench/serve_agnews.py [--artifact DIR] [--requests 400] [--concurrency 1 8 32]

Uses the AG-News-trained artifact when one exists (``--artifact``, else the first ``manifest.json`` under
``bench/out/agnews`` or ``runs/``), otherwise exports the packaged MiniLM-L6 with a fresh 4-label head
(same graph and cost; untrained predictions) — the output says which. Inputs are texts of
/work/shared/datasets/ag_news/test.jsonl (read in place, never copied).

In one run it measures (1) raw ONNX Runtime on the same texts, batched (``--raw-batches`` sizes,
padded to the longest, all cores; before and after Triton, the best is the reference), and (2) Triton serving the same
ONNX file via Frontier's python-backend model with Frontier's load generator at each concurrency level,
and reports Triton's throughput at the highest concurrency as a ratio of raw ONNX Runtime's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
AG_NEWS = Path("/work/shared/datasets/ag_news/test.jsonl")
AG_LABELS = ["World", "Sports", "Business", "Sci/Tech"]


def find_artifact(explicit: Path | None) -> tuple[Path | None, str]:
    if explicit is not None:
        return explicit, f"given artifact {explicit}"
    for base in (ROOT / "bench" / "out" / "agnews", ROOT / "runs"):
        for manifest in sorted(base.rglob("manifest.json")) if base.is_dir() else []:
            data = json.loads(manifest.read_text())
            if "fp32" in data.get("precisions", {}) and data.get("labels") == AG_LABELS:
                return manifest.parent, f"AG-News-trained artifact {manifest.parent}"
    return None, "fresh-head MiniLM-L6 export (no AG-News-trained artifact found; untrained 4-label head)"


def raw_onnxruntime(
    artifact: Path, texts: list[str], batch: int, threads: int, precision: str = "fp32"
) -> dict[str, float]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from frontier.artifact import read_manifest

    manifest = read_manifest(artifact)
    tokenizer = Tokenizer.from_file(str(artifact / manifest.tokenizer / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=manifest.max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(artifact / manifest.precisions[precision].model), options, providers=["CPUExecutionProvider"]
    )
    names = [i.name for i in session.get_inputs()]

    def run(chunk: list[str]) -> None:
        encodings = tokenizer.encode_batch(chunk)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        session.run(["logits"], {n: feeds[n] for n in names})

    run(texts[:batch])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        run(texts[start : start + batch])
    wall = time.perf_counter() - started
    single = []
    for text in texts[:100]:
        t0 = time.perf_counter()
        run([text])
        single.append((time.perf_counter() - t0) * 1000)
    return {
        "throughput_rps": len(texts) / wall,
        "batch": batch,
        "threads": threads,
        "single_p50_ms": float(np.percentile(single, 50)),
        "single_p95_ms": float(np.percentile(single, 95)),
    }


async def triton_levels(
    url: str, model: str, texts: list[str], levels: list[int], requests: int
) -> list[dict[str, float]]:
    from frontier.serving import loadgen

    workload = loadgen.prepare(texts)
    await loadgen.run_load(url, model, workload, max(levels), total=100)  # warm-up
    out = []
    for concurrency in levels:
        result = await loadgen.run_load(url, model, workload, concurrency, total=requests)
        out.append(
            {
                "concurrency": concurrency,
                "requests": result.completed,
                "errors": result.errors,
                "p50_ms": result.percentile(50),
                "p95_ms": result.percentile(95),
                "p99_ms": result.percentile(99),
                "throughput_rps": result.throughput_rps,
                "client_cpu_share": result.client_cpu_share,
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--texts", type=int, default=2000, help="AG News test texts used")
    parser.add_argument("--requests", type=int, default=400, help="requests per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--max-batch-size", type=int, default=8, help="Triton's max_batch_size")
    parser.add_argument("--raw-batches", type=int, nargs="+", default=[8, 32], help="raw ORT batch sizes")
    parser.add_argument("--queue-delay-us", type=int, default=2000)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="ORT intra-op threads")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "serve_agnews.json")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests" / "serving"))
    from frontier.api.spec import DynamicBatching, ServingSpec
    from frontier.serving.client import TritonClient
    from frontier.serving.repository import ModelRepository
    from frontier.serving.server import EmbeddedTriton

    texts = [json.loads(line)["text"] for line in AG_NEWS.read_text().splitlines()[: args.texts]]
    work = Path(tempfile.mkdtemp(prefix="serve-agnews-"))
    artifact, source = find_artifact(args.artifact)
    if artifact is None:
        from minilm_artifact import export_minilm_artifact

        artifact = export_minilm_artifact(work / "artifact", AG_LABELS, max_length=128, name="minilm-fresh-agnews")
    print(f"model: {source}", flush=True)

    def raw_sweep(when: str) -> list[dict[str, float]]:
        sweep = [raw_onnxruntime(artifact, texts, batch, args.threads) for batch in args.raw_batches]
        for r in sweep:
            print(
                f"raw onnxruntime ({when}) batch {r['batch']:<3} {args.threads} threads: "
                f"{r['throughput_rps']:.1f} texts/s",
                flush=True,
            )
        return sweep

    raw_runs = raw_sweep("before Triton")

    serving = ServingSpec(
        model_name="agnews",
        max_batch_size=args.max_batch_size,
        dynamic_batching=DynamicBatching(max_queue_delay_microseconds=args.queue_delay_us),
        instance_count=args.instances,
        intra_op_threads=args.threads,
    )
    repo = ModelRepository(work / "repository", "agnews", serving)
    repo.publish(artifact, "fp32", 1)
    with EmbeddedTriton(repo.root, workdir=work / "triton") as triton:
        TritonClient(triton.http_url).load_version(repo, 1)
        levels = asyncio.run(triton_levels(triton.http_url, "agnews__v1", texts, args.concurrency, args.requests))
    raw_runs += raw_sweep("after Triton")
    # The reference is the best raw batched throughput of either sweep (the harder bar to meet).
    raw = max(raw_runs, key=lambda r: r["throughput_rps"])
    top = max(levels, key=lambda lv: lv["concurrency"])
    ratio = top["throughput_rps"] / raw["throughput_rps"]
    for lv in levels:
        print(
            f"triton c={lv['concurrency']:<3} p50 {lv['p50_ms']:7.1f} ms  p95 {lv['p95_ms']:7.1f} ms  "
            f"p99 {lv['p99_ms']:7.1f} ms  {lv['throughput_rps']:7.1f} req/s  errors {lv['errors']}  "
            f"loadgen CPU {lv['client_cpu_share']:.2f} core"
        )
    print(
        f"ratio triton(c={top['concurrency']}) / best raw onnxruntime batched (batch {raw['batch']}, "
        f"{raw['throughput_rps']:.1f} texts/s) = {ratio:.2f}"
    )
    report = {
        "model": source,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "serving": serving.to_wire(),
        "raw_onnxruntime_best": raw,
        "raw_onnxruntime_runs": raw_runs,
        "triton": levels,
        "ratio_at_top_concurrency": ratio,
        "texts": len(texts),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
