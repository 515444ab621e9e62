"""``frontier bench``: benchmark one published version through a running Triton (the benchmark Job).

    frontier bench --manifest model.yaml --version 3 --url triton.frontier:8000 \\
        [--eval-uri data/test.jsonl] [--predictions artifact/predictions.json --precision int8] \\
        --out metrics.json [--report report.json]

The version's own Triton model (``<modelName>__v<N>``) must be loaded. The eval set is ``--eval-uri`` or
the manifest's ``dataset.eval`` (read like the trainer reads it, ``textField`` / ``labelField`` mapped to
``spec.labels``); ``benchmark.evalSamples`` limits it. ``--out`` receives the ``Metrics`` (camelCase, as in
``status.versions[].metrics``); ``--report`` the per-concurrency details and the load generator's own CPU.
Exit status 0 when measured (even with failed requests: they are counted in ``errors``), 1 when the
benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from frontier.errors import FrontierError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel manifest (YAML)")
    parser.add_argument("--version", required=True, type=int, help="the version number to benchmark")
    parser.add_argument("--url", required=True, help="Triton's HTTP endpoint, host:port")
    parser.add_argument("--eval-uri", default=None, help="eval data (default: the manifest's dataset.eval)")
    parser.add_argument("--predictions", type=Path, default=None, help="the artifact's predictions.json")
    parser.add_argument("--precision", default="fp32", help="which predictions to compare with (agreement)")
    parser.add_argument("--out", required=True, type=Path, help="where to write the Metrics JSON")
    parser.add_argument("--report", type=Path, default=None, help="where to write the detailed report JSON")


def _reference(path: Path | None, precision: str) -> list[int | str] | None:
    if path is None:
        return None
    data = json.loads(path.read_text())
    chosen = data.get("fp32") or data.get(precision) if isinstance(data, dict) else data
    return list(chosen) if chosen else None


def main(args: argparse.Namespace) -> int:
    import asyncio

    from frontier.api import resource
    from frontier.api.spec import DataSource
    from frontier.serving.benchmark import measure
    from frontier.trainer.data import map_rows
    from frontier.trainer.sources import read_source

    try:
        model = resource.load(args.manifest)
        spec = model.spec
        source = DataSource(uri=args.eval_uri) if args.eval_uri else spec.dataset.eval
        if source is None:
            print("frontier bench: no eval data: pass --eval-uri or declare spec.dataset.eval", file=sys.stderr)
            return 1
        raw = read_source(source, args.manifest.parent)
        split = map_rows(raw, "eval", spec.labels, spec.dataset.text_field, spec.dataset.label_field)
        report = asyncio.run(
            measure(
                args.url,
                f"{model.model_name}__v{args.version}",
                split.texts,
                [int(x) for x in split.labels],
                spec.labels,
                spec.benchmark,
                max_p95_ms=spec.promotion.guardrails.max_p95_ms,
                reference=_reference(args.predictions, args.precision),
            )
        )
    except FrontierError as error:
        print(f"frontier bench: {error}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report.metrics.to_wire(), indent=2) + "\n")
    if args.report is not None:
        args.report.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    m = report.metrics
    print(
        f"{report.model}: macro-F1 {m.macro_f1:.4f}  accuracy {m.accuracy:.4f}  p50 {m.p50_ms:.1f} ms  "
        f"p95 {m.p95_ms:.1f} ms  p99 {m.p99_ms:.1f} ms  {m.throughput_rps:.1f} req/s (c={m.concurrency})  "
        f"${m.cost_per_1m:.4f}/1M  errors {m.errors}"
    )
    for level in report.levels:
        print(
            f"  c={level.concurrency:<4} p50 {level.p50_ms:7.1f}  p95 {level.p95_ms:7.1f}  p99 {level.p99_ms:7.1f} ms"
            f"  {level.throughput_rps:7.1f} req/s  errors {level.errors}  client CPU {level.client_cpu_share:.2f} core"
        )
    return 0
