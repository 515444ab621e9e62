"""Precision variants side by side: every precision of one AG News MiniLM artifact, through Triton and raw.

    .venv/bin/python bench/precision_agnews.py [--artifact DIR] [--requests 300] [--eval-samples 2000]

For each precision the artifact carries (fp32, int8, ...), in one run on this machine:
- through the embedded Triton (Frontier's python-backend model, the same benchmark as ``frontier bench``):
  macro-F1 on ``--eval-samples`` AG News test rows, p50/p95 and throughput at concurrency 1 and 32, cost per
  1M requests on the paper's Cloud Run price model (0.053 · p50 at concurrency 1);
- through raw ONNX Runtime on the same texts: batch-1 latency and batch-32 throughput.
It prints the CPU model and the flags that decide which precision wins (avx2, avx512*, amx*).
Needs an AG-News-trained artifact (``bench/train_agnews.py`` writes one under bench/out/agnews).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from serve_agnews import AG_LABELS, AG_NEWS, find_artifact, raw_onnxruntime  # noqa: E402


def cpu_description() -> tuple[str, list[str]]:
    text = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    wanted = [f for f in flags if f in ("avx2", "fma") or f.startswith(("avx512", "amx"))]
    return model, sorted(wanted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=300, help="requests per concurrency level")
    parser.add_argument("--eval-samples", type=int, default=2000, help="AG News test rows scored for macro-F1")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--queue-delay-us", type=int, default=500, help="dynamic batching delay (spec default)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "precision_agnews.json")
    args = parser.parse_args()

    from frontier.api.spec import BenchmarkSpec, DynamicBatching, ServingSpec
    from frontier.artifact import read_manifest
    from frontier.serving.benchmark import measure
    from frontier.serving.local import LocalServing

    artifact, source = find_artifact(args.artifact)
    if artifact is None or ("AG-News-trained" not in source and args.artifact is None):
        print("no AG-News-trained artifact: run bench/train_agnews.py first", file=sys.stderr)
        return 1
    manifest = read_manifest(artifact)
    rows = [json.loads(line) for line in AG_NEWS.read_text().splitlines()]
    step = max(1, len(rows) // args.eval_samples)
    rows = rows[::step][: args.eval_samples]  # spread over the whole test split, every class
    texts, gold = [r["text"] for r in rows], [AG_LABELS.index(r["label"]) for r in rows]
    model_name, flags = cpu_description()
    print(f"model: {source}\nCPU: {model_name}, {os.cpu_count()} cores; flags: {' '.join(flags)}", flush=True)

    serving = ServingSpec(
        model_name="agnews",
        max_batch_size=8,
        dynamic_batching=DynamicBatching(max_queue_delay_microseconds=args.queue_delay_us),
        intra_op_threads=args.threads,
    )
    spec = BenchmarkSpec(requests=args.requests, warmup_requests=50, concurrency=[1, 32])
    results = []
    work = Path(tempfile.mkdtemp(prefix="precision-agnews-"))
    with LocalServing(work / "repository", "agnews", serving, log_path=work / "triton.log") as local:
        for number, precision in enumerate(manifest.precisions, start=1):
            local.publish(artifact, precision, number)
            report = asyncio.run(
                measure(local.url, f"agnews__v{number}", texts, gold, AG_LABELS, spec, version=None)
            )
            levels = {lv.concurrency: lv for lv in report.levels}
            raw1 = raw_onnxruntime(artifact, texts[:300], 1, args.threads, precision)
            raw32 = raw_onnxruntime(artifact, texts[:1000], 32, args.threads, precision)
            results.append({
                "precision": precision,
                "macro_f1": report.metrics.macro_f1,
                "triton_c1_p50_ms": levels[1].p50_ms, "triton_c1_p95_ms": levels[1].p95_ms,
                "triton_c32_p50_ms": levels[32].p50_ms, "triton_c32_p95_ms": levels[32].p95_ms,
                "triton_c1_rps": levels[1].throughput_rps, "triton_c32_rps": levels[32].throughput_rps,
                "cost_per_1m_cloud_run": report.metrics.cost_per_1m,
                "raw_batch1_p50_ms": raw1["single_p50_ms"], "raw_batch32_rps": raw32["throughput_rps"],
                "errors": report.metrics.errors,
            })
            print(json.dumps(results[-1]), flush=True)
    base = next(r for r in results if r["precision"] == "fp32")
    print("\n| precision | macro-F1 | Triton c=1 p50 / p95 ms | Triton c=32 p50 / p95 ms | Triton rps c=1 / c=32 "
          "| $/1M (Cloud Run) | raw ORT batch-1 p50 ms | raw ORT batch-32 texts/s | p50 c=1 vs fp32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['precision']} | {r['macro_f1']:.4f} | {r['triton_c1_p50_ms']:.1f} / {r['triton_c1_p95_ms']:.1f} | "
            f"{r['triton_c32_p50_ms']:.1f} / {r['triton_c32_p95_ms']:.1f} | {r['triton_c1_rps']:.1f} / "
            f"{r['triton_c32_rps']:.1f} | {r['cost_per_1m_cloud_run']:.3f} | {r['raw_batch1_p50_ms']:.2f} | "
            f"{r['raw_batch32_rps']:.1f} | ×{r['triton_c1_p50_ms'] / base['triton_c1_p50_ms']:.2f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"model": source, "cpu": model_name, "flags": flags, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
