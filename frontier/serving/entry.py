"""``frontier bench``: benchmark one published version through a running Triton (the benchmark Job).

    frontier bench --manifest model.yaml --version 3 --url triton.frontier:8000 \\
        [--eval-uri data/test.jsonl] [--predictions artifact/predictions.json --precision int8] \\
        --out metrics.json [--report report.json]

As the operator's benchmark Job it is also handed the artifact and the model repository:

    frontier bench --manifest /etc/frontier/manifest.yaml --version 3 --candidate c --precision int8 \\
        --artifact file:///frontier/artifacts/... --model-repository /frontier/models --endpoint http://triton:8000

then it first publishes that precision of the artifact as version 3 (checksums verified) and loads it, reads
the trainer's predictions from the artifact, and reports the Metrics to the operator through its result
ConfigMap (``frontier.results``) as well as ``--out`` when given.

The version's own Triton model (``<modelName>__v<N>``) must be loaded. The eval rows are the ones
``frontier run`` scores (``frontier.data.evaluation.benchmark_rows``): the candidate's own eval split as its
training run made it (``dataset.eval``, or ``evalFraction`` held out of train, with the candidate's seed;
``maxEvalSamples`` applied), then the first ``benchmark.evalSamples``. ``--eval-uri`` replaces the eval
source as it does for ``frontier train``. Relative data URIs resolve against ``--data-root``, else
``$FRONTIER_DATA_ROOT``, else the manifest's directory. ``--out`` receives the ``Metrics`` (camelCase, as in
``status.versions[].metrics``); ``--report`` the per-concurrency details and the load generator's own CPU.
Exit status 0 when measured (even with failed requests: they are counted in ``errors``), 2 on bad input
(the manifest, ``--candidate`` or the eval data: retrying cannot help), 1 when the benchmark could not run.
As the operator's benchmark Job, a failure is also reported through the result ConfigMap
(``frontier.results.publish_failure``: the error's name, its message and the exit code).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from frontier.errors import DataError, FieldError, FrontierError, ServingError, SpecError

if TYPE_CHECKING:
    from frontier.api.spec import ClassifierModelSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel manifest (YAML)")
    parser.add_argument("--version", required=True, type=int, help="the version number to benchmark")
    parser.add_argument("--url", "--endpoint", dest="url", default=None, help="Triton's HTTP endpoint, host:port")
    parser.add_argument("--artifact", default=None, help="publish this artifact's --precision as --version first")
    parser.add_argument("--model-repository", type=Path, default=None, help="the Triton model repository (a path)")
    parser.add_argument(
        "--candidate",
        default=None,
        help="the candidate the version belongs to: its seed picks the eval split (needed when seeds differ)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="resolve relative dataset URIs here (default: $FRONTIER_DATA_ROOT, else the manifest's directory)",
    )
    parser.add_argument("--eval-uri", default=None, help="override spec.dataset.eval.uri")
    parser.add_argument("--predictions", type=Path, default=None, help="the artifact's predictions.json")
    parser.add_argument("--precision", default="fp32", help="which predictions to compare with (agreement)")
    parser.add_argument("--out", type=Path, default=None, help="where to write the Metrics JSON")
    parser.add_argument("--report", type=Path, default=None, help="where to write the detailed report JSON")


def _seed(spec: ClassifierModelSpec, candidate: str | None) -> int:
    """The seed the version's training run split and sampled its eval rows with."""
    if candidate is not None:
        try:
            return spec.candidate(candidate).hyperparameters.seed
        except KeyError as error:
            raise SpecError([FieldError("--candidate", str(error.args[0]))]) from None
    seeds = {c.hyperparameters.seed for c in spec.candidates}
    if len(seeds) > 1:
        raise SpecError(
            [FieldError("--candidate", "the candidates have different seeds (so different eval rows); name one")]
        )
    return seeds.pop()


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

    from frontier import results
    from frontier.api import resource
    from frontier.artifact import reference_predictions
    from frontier.data.data import with_sources
    from frontier.data.evaluation import benchmark_rows
    from frontier.data.sources import data_root
    from frontier.serving.benchmark import measure

    if not args.url:
        message = "no Triton endpoint: pass --url, or set spec.serving.endpoint (or the operator's --triton-endpoint)"
        print(f"frontier bench: {message}", file=sys.stderr)
        results.publish_failure(ServingError.__name__, message, 1)
        return 1
    try:
        model = resource.load(args.manifest)
        spec = model.spec
        seed = _seed(spec, args.candidate)
        if args.eval_uri:
            spec = spec.model_copy(update={"dataset": with_sources(spec.dataset, eval_uri=args.eval_uri)})
        rows = benchmark_rows(spec, seed, data_root(args.data_root, args.manifest))
        url = args.url.removeprefix("http://").removeprefix("https://").rstrip("/")
        predictions = args.predictions
        if args.artifact:
            predictions = predictions or _publish(args, model, url)
        limit = spec.benchmark.eval_samples
        reference = reference_predictions(predictions, args.precision, limit) if predictions else None
        report = asyncio.run(
            measure(
                url,
                f"{model.model_name}__v{args.version}",
                rows.texts,
                rows.labels,
                spec.labels,
                spec.benchmark,
                max_p95_ms=spec.promotion.guardrails.max_p95_ms,
                reference=reference,
            )
        )
    except FrontierError as error:
        print(f"frontier bench: {error}", file=sys.stderr)
        code = 2 if isinstance(error, SpecError | DataError) else 1
        results.publish_failure(type(error).__name__, str(error), code)
        return code
    except Exception as error:  # a bug: say so to the operator, then the traceback
        results.publish_failure(type(error).__name__, str(error), 1)
        raise
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report.metrics.to_wire(), indent=2) + "\n")
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
