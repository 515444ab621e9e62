"""``frontier baseline``: measure one ``llm`` baseline of a manifest (the baseline Job, or by hand).

    frontier baseline --manifest /etc/frontier/manifest.yaml --name gpt-4o-mini [--data-root D] [--out m.json]

The API key comes from ``$FRONTIER_BASELINE_<NAME>_API_KEY`` (in a cluster, from the Secret the baseline's
``credentials`` name). Exit status 0 when measured, 2 on bad input or missing credentials (retrying cannot
help), 1 when the endpoint could not be measured; as a Job, the result or the failure is published through
the Job's result ConfigMap (``frontier.results``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from frontier.errors import DataError, FieldError, FrontierError, SpecError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel manifest (YAML)")
    parser.add_argument("--name", required=True, help="the baseline to measure (spec.baselines[].name)")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="resolve relative dataset URIs here (default: $FRONTIER_DATA_ROOT, else the manifest's directory)",
    )
    parser.add_argument("--out", type=Path, default=None, help="where to write the result JSON")


def main(args: argparse.Namespace) -> int:
    from frontier import results
    from frontier.api import resource
    from frontier.baselines import measurement
    from frontier.data.sources import data_root

    try:
        spec = resource.load(args.manifest).spec
        baseline = next((b for b in spec.baselines if b.name == args.name and b.llm is not None), None)
        if baseline is None:
            raise SpecError([FieldError("--name", f"no llm baseline {args.name!r} in spec.baselines")])
        found = measurement.measure(spec, baseline, data_root(args.data_root, args.manifest))
    except FrontierError as error:
        print(f"frontier baseline: {error}", file=sys.stderr)
        code = 2 if isinstance(error, SpecError | DataError | measurement.CredentialsMissing) else 1
        results.publish_failure(type(error).__name__, str(error), code)
        return code
    result = results.BaselineResult(
        macro_f1=found.macro_f1,
        p50_ms=found.p50_ms,
        p95_ms=found.p95_ms,
        p99_ms=found.p99_ms,
        measured=found.measurement,
    )
    payload = results.baseline_payload(result)
    if args.out is not None:
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    results.publish(payload)
    m = found.measurement
    print(
        f"{args.name}: macro-F1 {found.macro_f1:.4f} on {m.rows} rows ({m.unparseable} unparseable, {m.errors} "
        f"errors, {m.retries} retries), p50 {found.p50_ms:.0f} ms, p95 {found.p95_ms:.0f} ms, tokens "
        f"{m.input_tokens:.1f} in / {m.output_tokens:.1f} out per request"
    )
    return 0
