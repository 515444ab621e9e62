"""``frontier bench``: benchmark one published version through a running Triton (the benchmark Job).

    frontier bench --manifest model.yaml --version 3 --url triton.frontier:8000 \\
        [--eval-uri data/test.jsonl] [--predictions artifact/predictions.json --precision int8] \\
        --out metrics.json [--report report.json]

As the operator's benchmark Job it is also handed the artifact and the model repository:

    frontier bench --manifest /etc/frontier/manifest.yaml --version 3 --candidate c --precision int8 \\
        --artifact file:///frontier/artifacts/... --model-repository /frontier/models --endpoint http://triton:8000

then it first publishes that precision of the artifact as version 3 (checksums verified) and loads it, reads
the trainer's predictions from the artifact, and reports the Metrics to the operator through its result
ConfigMap (``frontier.operator.results``) as well as ``--out`` when given.

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
from typing import Any

from frontier.errors import FrontierError, ServingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel manifest (YAML)")
    parser.add_argument("--version", required=True, type=int, help="the version number to benchmark")
    parser.add_argument("--url", "--endpoint", dest="url", default=None, help="Triton's HTTP endpoint, host:port")
    parser.add_argument("--artifact", default=None, help="publish this artifact's --precision as --version first")
    parser.add_argument("--model-repository", type=Path, default=None, help="the Triton model repository (a path)")
    parser.add_argument("--candidate", default=None, help="the candidate the version belongs to (for logs)")
    parser.add_argument("--eval-uri", default=None, help="eval data (default: the manifest's dataset.eval)")
    parser.add_argument("--predictions", type=Path, default=None, help="the artifact's predictions.json")
    parser.add_argument("--precision", default="fp32", help="which predictions to compare with (agreement)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the Metrics JSON")
    parser.add_argument("--report", type=Path, default=None, help="where to write the detailed report JSON")


def _reference(path: Path | None, precision: str) -> list[int | str] | None:
    if path is None:
        return None
    data = json.loads(path.read_text())
    chosen = data.get("fp32") or data.get(precision) if isinstance(data, dict) else data
    return list(chosen) if chosen else None


def _publish(args: argparse.Namespace, model: Any, url: str) -> Path | None:
    """Publish and load the version (the operator's Job); returns the artifact's predictions.json."""
    from frontier.serving.client import TritonClient
    from frontier.serving.repository import ModelRepository

    if args.model_repository is None:
        raise ServingError("--artifact needs --model-repository")
    artifact = Path(args.artifact.removeprefix("file://"))
    repository = ModelRepository(args.model_repository, model.model_name, model.spec.serving)
    if args.version not in repository.published():
        repository.publish(artifact, args.precision, args.version)
    with TritonClient(url) as client:
        client.load_version(repository, args.version)
    found = artifact / "predictions.json"
    return found if found.is_file() else None


def main(args: argparse.Namespace) -> int:
    import asyncio

    from frontier.api import resource
    from frontier.api.spec import DataSource
    from frontier.serving.benchmark import measure
    from frontier.trainer.data import map_rows
    from frontier.trainer.sources import read_source

    if not args.url:
        print(
            "frontier bench: no Triton endpoint: pass --url, or set spec.serving.endpoint "
            "(or the operator's --triton-endpoint)",
            file=sys.stderr,
        )
        return 1
    try:
        model = resource.load(args.manifest)
        spec = model.spec
        source = DataSource(uri=args.eval_uri) if args.eval_uri else spec.dataset.eval
        if source is None:
            print("frontier bench: no eval data: pass --eval-uri or declare spec.dataset.eval", file=sys.stderr)
            return 1
        url = args.url.removeprefix("http://").removeprefix("https://").rstrip("/")
        predictions = args.predictions
        if args.artifact:
            predictions = predictions or _publish(args, model, url)
        raw = read_source(source, args.manifest.parent)
        split = map_rows(raw, "eval", spec.labels, spec.dataset.text_field, spec.dataset.label_field)
        report = asyncio.run(
            measure(
                url,
                f"{model.model_name}__v{args.version}",
                split.texts,
                [int(x) for x in split.labels],
                spec.labels,
                spec.benchmark,
                max_p95_ms=spec.promotion.guardrails.max_p95_ms,
                reference=_reference(predictions, args.precision),
            )
        )
    except FrontierError as error:
        print(f"frontier bench: {error}", file=sys.stderr)
        return 1
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report.metrics.to_wire(), indent=2) + "\n")
    from frontier.operator import results

    results.publish({"metrics": report.metrics.to_wire()})
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
