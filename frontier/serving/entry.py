"""``frontier bench``: measure published versions through a running Triton, together (the benchmark Job).

The operator's benchmark Job measures a generation's versions and the promoted one in interleaved rounds
(``frontier.serving.rounds``), each contender naming the exact artifact it was recorded with:

    frontier bench --manifest /etc/frontier/manifest.yaml --model-repository /frontier/models \\
        --endpoint http://triton:8000 --owner <uid> \\
        --contender '{"version": 3, "candidate": "minilm", "precision": "int8", "generation": 2,
                      "artifact": {"uri": "file:///frontier/artifacts/...", "sha256": "..."}}' ...

For each contender it checks that the artifact's ``manifest.json`` has the recorded sha256
(``ArtifactMismatch`` otherwise: a version is exactly the artifact in its status), publishes that
precision as the version (checksums verified; a version directory another incarnation left is
replaced, one of this incarnation with another artifact is refused) and loads it; then measures all of
them together and reports ``{"metrics": {"<version>": Metrics}}`` through the Job's result ConfigMap
(``frontier.results``) and ``--out``.

By hand, one version already loaded (``<modelName>__v<N>``), with the same measurement:

    frontier bench --manifest model.yaml --version 3 --url triton.frontier:8000 \\
        [--candidate c] [--eval-uri data/test.jsonl] [--predictions artifact/predictions.json --precision int8] \\
        --out metrics.json [--report report.json]

With ``dataset.test`` in the spec every version is also scored on the test rows (``metrics.test``: shown,
never decided on). The eval rows are the ones ``frontier run`` scores
(``frontier.data.evaluation.benchmark_rows``): each
candidate's own eval split as its training run made it (``dataset.eval``, or ``evalFraction`` held out of
train, with the candidate's seed; ``maxEvalSamples`` applied), then the first ``benchmark.evalSamples``.
``--eval-uri`` replaces the eval source as it does for ``frontier train``. Relative data URIs resolve
against ``--data-root``, else ``$FRONTIER_DATA_ROOT``, else the manifest's directory. Exit status 0 when
measured (failed requests are counted in ``errors``), 2 on bad input or a mismatched artifact (retrying
cannot help), 1 when the benchmark could not run; as a Job, a failure is also reported through the result
ConfigMap (``frontier.results.publish_failure``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from frontier.errors import ArtifactMismatch, DataError, FieldError, FrontierError, ServingError, SpecError

if TYPE_CHECKING:
    from frontier.api.resource import ClassifierModel
    from frontier.api.spec import ClassifierModelSpec
    from frontier.api.status import Metrics
    from frontier.data.evaluation import EvalRows
    from frontier.serving.benchmark import BenchmarkReport
    from frontier.serving.rounds import Contender


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel manifest (YAML)")
    parser.add_argument(
        "--contender",
        action="append",
        default=[],
        metavar="JSON",
        help='a version to publish and measure: {"version", "candidate", "precision", "artifact": {"uri", "sha256"}}',
    )
    parser.add_argument("--owner", default=None, help="the uid of the ClassifierModel the versions belong to")
    parser.add_argument(
        "--discard",
        action="append",
        type=int,
        default=[],
        metavar="VERSION",
        help="a version that will never serve again: unload it and remove its copy from the model repository",
    )
    parser.add_argument("--version", type=int, default=None, help="one version to measure (already loaded)")
    parser.add_argument("--url", "--endpoint", dest="url", default=None, help="Triton's HTTP endpoint, host:port")
    parser.add_argument("--model-repository", type=Path, default=None, help="the Triton model repository (a path)")
    parser.add_argument(
        "--candidate",
        default=None,
        help="the candidate --version belongs to: its seed picks the eval split (needed when seeds differ)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="resolve relative dataset URIs here (default: $FRONTIER_DATA_ROOT, else the manifest's directory)",
    )
    parser.add_argument("--eval-uri", default=None, help="override spec.dataset.eval.uri")
    parser.add_argument("--predictions", type=Path, default=None, help="the artifact's predictions.json")
    parser.add_argument("--precision", default="fp32", help="which predictions --version is compared with")
    parser.add_argument("--out", type=Path, default=None, help="where to write the metrics JSON")
    parser.add_argument(
        "--report", type=Path, default=None, help="where to write the per-level details and the load generator's CPU"
    )


@dataclass(frozen=True)
class Wanted:
    """One version to measure, as the command line names it."""

    version: int
    candidate: str | None
    precision: str
    artifact: Path | None = None
    sha256: str | None = None
    predictions: Path | None = None


def _seed(spec: ClassifierModelSpec, candidate: str | None, flag: str) -> int:
    """The seed the version's training run split and sampled its eval rows with."""
    if candidate is not None:
        try:
            return spec.candidate(candidate).hyperparameters.seed
        except KeyError as error:
            raise SpecError([FieldError(flag, str(error.args[0]))]) from None
    seeds = {c.hyperparameters.seed for c in spec.candidates}
    if len(seeds) > 1:
        raise SpecError([FieldError(flag, "the candidates have different seeds (so different eval rows); name one")])
    return seeds.pop()


def _wanted(args: argparse.Namespace) -> list[Wanted]:
    found = []
    for i, raw in enumerate(args.contender):
        flag = f"--contender[{i}]"
        try:
            item = json.loads(raw)
            artifact = item["artifact"]
            found.append(
                Wanted(
                    version=int(item["version"]),
                    candidate=str(item["candidate"]),
                    precision=str(item["precision"]),
                    artifact=Path(str(artifact["uri"]).removeprefix("file://")),
                    sha256=str(artifact["sha256"]),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise SpecError([FieldError(flag, f"not a contender ({type(error).__name__}: {error})")]) from None
    if args.version is not None:
        found.append(Wanted(args.version, args.candidate, args.precision, predictions=args.predictions))
    if not found:
        raise SpecError([FieldError("--contender", "name at least one version to measure (or --version)")])
    return found


def _publish(wanted: Wanted, model: ClassifierModel, args: argparse.Namespace, url: str) -> None:
    """Check the artifact is the recorded one, publish its precision as the version, load it."""
    from frontier.artifact import sha256_file
    from frontier.serving.client import TritonClient
    from frontier.serving.repository import ModelRepository

    assert wanted.artifact is not None
    if args.model_repository is None:
        raise ServingError("publishing a contender needs --model-repository")
    actual = sha256_file(wanted.artifact / "manifest.json") if (wanted.artifact / "manifest.json").is_file() else None
    if actual != wanted.sha256:
        raise ArtifactMismatch(
            f"v{wanted.version}: {wanted.artifact} has manifest sha256 {actual or 'none (missing)'}, "
            f"the version was recorded with {wanted.sha256}"
        )
    repository = ModelRepository(args.model_repository, model.model_name, model.spec.serving)
    repository.publish(wanted.artifact, wanted.precision, wanted.version, owner=args.owner)
    TritonClient(url).load_version(repository, wanted.version)


def _discard(args: argparse.Namespace, model: ClassifierModel, url: str) -> None:
    """Versions that will never serve again leave Triton and the repository (the retention of copies)."""
    from frontier.serving.client import TritonClient
    from frontier.serving.repository import ModelRepository

    if not args.discard or args.model_repository is None:
        return
    repository = ModelRepository(args.model_repository, model.model_name, model.spec.serving)
    client = TritonClient(url)
    for version in args.discard:
        try:
            client.unload_all(repository.models_of(version))
        except ServingError as error:  # gone already, or Triton busy: the files go all the same
            print(f"frontier bench: unloading v{version}: {error}", file=sys.stderr)
        repository.remove(version)


def _contender(
    wanted: Wanted, model: ClassifierModel, spec: ClassifierModelSpec, base: Path, test: EvalRows | None
) -> Contender:
    from frontier.api.names import version_model
    from frontier.artifact import reference_predictions
    from frontier.data.evaluation import benchmark_rows
    from frontier.serving.rounds import Contender

    flag = f"--contender (v{wanted.version})" if wanted.artifact else "--candidate"
    rows = benchmark_rows(spec, _seed(spec, wanted.candidate, flag), base)
    source = wanted.predictions or wanted.artifact
    reference = reference_predictions(source, wanted.precision, spec.benchmark.eval_samples) if source else None
    model_name = version_model(model.model_name, wanted.version)
    return Contender(
        wanted.version,
        model_name,
        rows.texts,
        rows.labels,
        reference,
        test.texts if test else (),
        test.labels if test else (),
    )


def measure(args: argparse.Namespace) -> dict[int, BenchmarkReport]:
    import asyncio

    from frontier.api import resource
    from frontier.data.data import with_sources
    from frontier.data.evaluation import rows_for_test
    from frontier.data.sources import data_root
    from frontier.serving import rounds

    model = resource.load(args.manifest)
    spec = model.spec
    if args.eval_uri:
        spec = spec.model_copy(update={"dataset": with_sources(spec.dataset, eval_uri=args.eval_uri)})
    wanted = _wanted(args)
    url = args.url.removeprefix("http://").removeprefix("https://").rstrip("/")
    _discard(args, model, url)
    for item in wanted:
        if item.artifact is not None:
            _publish(item, model, args, url)
    base = data_root(args.data_root, args.manifest)
    test = rows_for_test(spec, base)
    contenders = [_contender(item, model, spec, base, test) for item in wanted]
    return asyncio.run(
        rounds.measure_together(
            url, contenders, spec.labels, spec.benchmark, max_p95_ms=spec.promotion.guardrails.max_p95_ms
        )
    )


def main(args: argparse.Namespace) -> int:
    from frontier import results

    if not args.url:
        message = "no Triton endpoint: pass --url, or set spec.serving.endpoint (or the operator's --triton-endpoint)"
        print(f"frontier bench: {message}", file=sys.stderr)
        results.publish_failure(ServingError.__name__, message, 1)
        return 1
    try:
        reports = measure(args)
    except FrontierError as error:
        print(f"frontier bench: {error}", file=sys.stderr)
        code = 2 if isinstance(error, SpecError | DataError | ArtifactMismatch) else 1
        results.publish_failure(type(error).__name__, str(error), code)
        return code
    except Exception as error:  # a bug: say so to the operator, then the traceback
        results.publish_failure(type(error).__name__, str(error), 1)
        raise
    measured = {version: report.metrics for version, report in reports.items()}
    payload = results.benchmark_payload(measured)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(payload["metrics"], indent=2) + "\n")
    if args.report is not None:
        details = {str(v): report.to_json() for v, report in sorted(reports.items())}
        args.report.write_text(json.dumps(details, indent=2) + "\n")
    results.publish(payload)
    for version, report in sorted(reports.items()):
        print(_line(version, report.metrics))
        for lv in report.levels:
            print(
                f"    c={lv.concurrency:<4} p50 {lv.p50_ms:7.1f}  p95 {lv.p95_ms:7.1f}  p99 {lv.p99_ms:7.1f} ms"
                f"  {lv.throughput_rps:7.1f} req/s  errors {lv.errors}  client CPU {lv.client_cpu_share:.2f} core"
            )
    return 0


def _line(version: int, m: Metrics) -> str:
    p50 = m.p50_interval_ms
    interval = f" [{p50.low:.1f}, {p50.high:.1f}]" if p50 else ""
    flags = ("" if m.stable else "  not stable") + ("  DISTURBED" if m.disturbed else "")
    return (
        f"v{version}: macro-F1 {m.macro_f1:.4f}  p50 {m.p50_ms:.1f}{interval} ms  p95 {m.p95_ms:.1f} ms  "
        f"p99 {m.p99_ms:.1f} ms  {m.throughput_rps:.1f} req/s (c={m.concurrency})  ${m.cost_per_1m:.4f}/1M  "
        f"errors {m.errors}  rounds {m.rounds}  others' CPU {m.interference_cores or 0.0:.2f} cores{flags}"
    )
