"""Where a served request's CPU goes: the model, the rest of the python backend, and everything outside it.

    .venv/bin/python bench/served_overhead.py --artifact DIR --data ../shared/datasets/<set> [--concurrency 8]

DIR is a trained artifact with fp32 and int8 models. Both are published to the embedded Triton (the spec's
serving defaults) and loaded alternately at one concurrency (``--rounds`` rounds each, the generator of
``frontier.serving.loadgen``). Per precision it reports:
- requests/s, and the machine's CPU per request (cores × wall time / requests: what a request costs here);
- Triton's own statistics (``/v2/models/<m>/stats``): the mean batch the dynamic batcher formed, and the
  wall time of one python-backend ``execute`` (``compute_infer``, which Triton adds to every request of the
  batch: tokenization, ONNX Runtime, outputs);
- the share of the machine's CPU that was busy meanwhile (/proc/stat);
- the load generator's CPU per request (``time.process_time``);
- raw ONNX Runtime: ``session.run`` alone on batches of the served mean size from the same rows, both
  precisions timed alternately, so the model's own speed-up can be set beside the served one.
Rows are spread over the data set's test split. Prints the CPU and its flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from precision_agnews import cpu_description  # noqa: E402
from precision_int8 import rows_of  # noqa: E402


def stats(url: str, model: str) -> dict[str, float]:
    with urllib.request.urlopen(f"http://{url.removeprefix('http://')}/v2/models/{model}/stats") as response:
        entry = json.loads(response.read())["model_stats"][0]
    inference = entry["inference_stats"]
    return {
        "inferences": float(entry["inference_count"]),
        "executions": float(entry["execution_count"]),
        "infer_ns": float(inference["compute_infer"]["ns"]),
        "queue_ns": float(inference["queue"]["ns"]),
        "success_ns": float(inference["success"]["ns"]),
    }


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def raw_speed(models: dict[str, Path], feeds: list[dict[str, Any]], rounds: int = 5) -> dict[str, float]:
    """Rows per second of ``session.run`` alone, each model timed alternately ``rounds`` times; medians."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = {
        name: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        for name, path in models.items()
    }
    rows = sum(len(next(iter(feed.values()))) for feed in feeds)
    seen: dict[str, list[float]] = {name: [] for name in sessions}
    for session in sessions.values():
        session.run(None, feeds[0])  # warm-up
    for r in range(rounds):
        for name in sessions if r % 2 == 0 else reversed(list(sessions)):
            started = time.perf_counter()
            for feed in feeds:
                sessions[name].run(None, feed)
            seen[name].append(rows / (time.perf_counter() - started))
    return {name: float(np.median(values)) for name, values in seen.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="a directory with test.jsonl")
    parser.add_argument("--rows", type=int, default=1000, help="test rows sent (spread over the split)")
    parser.add_argument("--requests", type=int, default=400, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from frontier.api.spec import ServingSpec
    from frontier.artifact import read_manifest
    from frontier.serving import loadgen
    from frontier.serving.local import LocalServing

    manifest = read_manifest(args.artifact)
    test = rows_of(args.data, "test")
    texts = [str(r["text"]) for r in test[:: max(1, len(test) // args.rows)][: args.rows]]
    workload = loadgen.prepare(texts)
    cores = os.cpu_count() or 1
    model_name, flags = cpu_description()
    print(f"{args.artifact} on {len(texts)} test rows of {args.data.name}, concurrency {args.concurrency}")
    print(f"CPU: {model_name}, {cores} cores; flags: {' '.join(flags)}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="served-overhead-"))
    precisions = ("fp32", "int8")
    totals = {p: {"requests": 0.0, "wall_s": 0.0, "client_cpu_s": 0.0, "busy": 0.0, "ticks": 0.0} for p in precisions}
    served: dict[str, dict[str, float]] = {}
    with LocalServing(
        work / "repository", "overhead", ServingSpec(model_name="overhead"), log_path=work / "triton.log"
    ) as local:
        models = {}
        for number, precision in enumerate(precisions, start=1):
            local.publish(args.artifact, precision, number)
            models[precision] = local.repository.version_model(number)
            asyncio.run(loadgen.run_load(local.url, models[precision], workload, args.concurrency, total=50))
        before = {p: stats(local.url, models[p]) for p in precisions}
        for _ in range(args.rounds):
            for precision in precisions:
                busy_before, ticks_before = cpu_times()
                result = asyncio.run(
                    loadgen.run_load(local.url, models[precision], workload, args.concurrency, total=args.requests)
                )
                totals[precision]["requests"] += result.completed
                totals[precision]["wall_s"] += result.wall_s
                totals[precision]["client_cpu_s"] += result.client_cpu_s
                busy_after, ticks_after = cpu_times()
                totals[precision]["busy"] += busy_after - busy_before
                totals[precision]["ticks"] += ticks_after - ticks_before
        for precision in precisions:
            after = stats(local.url, models[precision])
            served[precision] = {k: after[k] - before[precision][k] for k in after}

    tokenizer = Tokenizer.from_file(str(args.artifact / "tokenizer" / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=manifest.max_length)
    tokenizer.enable_padding(pad_id=tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    batch = max(1, round(served["fp32"]["inferences"] / served["fp32"]["executions"]))
    feeds = []
    for start in range(0, len(texts), batch):
        encoded = tokenizer.encode_batch(texts[start : start + batch])
        feeds.append(
            {
                "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
            }
        )
    names = [i.name for i in ort.InferenceSession(str(args.artifact / manifest.precisions["fp32"].model)).get_inputs()]
    feeds = [{n: feed[n] for n in names} for feed in feeds]
    raw = raw_speed({p: args.artifact / manifest.precisions[p].model for p in precisions}, feeds)
    shutil.rmtree(work, ignore_errors=True)

    table = {}
    for precision in precisions:
        total, seen = totals[precision], served[precision]
        table[precision] = {
            "requests_per_s": total["requests"] / total["wall_s"],
            "machine_core_ms_per_request": 1000 * cores * total["wall_s"] / total["requests"],
            "busy_share": total["busy"] / total["ticks"],
            "mean_batch": seen["inferences"] / seen["executions"],
            "execute_ms_per_batch": seen["infer_ns"] / 1e6 / seen["inferences"],
            "queue_ms_per_request": seen["queue_ns"] / 1e6 / seen["inferences"],
            "client_cpu_ms_per_request": 1000 * total["client_cpu_s"] / total["requests"],
            "raw_onnxruntime_rows_per_s": raw[precision],
            "raw_model_ms_per_row": 1000 / raw[precision],
        }
    print(
        "\n| precision | req/s | machine core-ms per request (busy share) | mean batch formed "
        "| execute() wall ms, one batch | load generator CPU ms per request | raw ORT rows/s at that batch "
        "| raw ORT ms per row |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for precision, row in table.items():
        print(
            f"| {precision} | {row['requests_per_s']:.1f} "
            f"| {row['machine_core_ms_per_request']:.2f} ({row['busy_share']:.0%}) "
            f"| {row['mean_batch']:.2f} | {row['execute_ms_per_batch']:.2f} | {row['client_cpu_ms_per_request']:.2f} "
            f"| {row['raw_onnxruntime_rows_per_s']:.1f} | {row['raw_model_ms_per_row']:.2f} |"
        )
    fp32, int8 = table["fp32"], table["int8"]
    served_ratio = int8["requests_per_s"] / fp32["requests_per_s"]
    raw_ratio = int8["raw_onnxruntime_rows_per_s"] / fp32["raw_onnxruntime_rows_per_s"]
    print(f"\nserved speed-up {served_ratio:.2f}×; raw ONNX Runtime at batch {batch}: {raw_ratio:.2f}×")
    if args.out:
        args.out.write_text(json.dumps({"cpu": model_name, "flags": flags, "batch": batch, "table": table}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
