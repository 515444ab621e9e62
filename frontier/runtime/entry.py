"""``frontier run MANIFEST --workdir DIR``: the whole lifecycle on this machine, with an embedded Triton."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from frontier import api
from frontier.errors import FrontierError, SpecError
from frontier.runtime import pipeline, report
from frontier.runtime.workdir import Workdir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", type=Path, help="a ClassifierModel manifest (YAML)")
    parser.add_argument("--workdir", type=Path, help="where status, artifacts and logs go (runs/<name>)")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=os.environ.get("FRONTIER_DATA_ROOT"),
        help="resolve relative dataset URIs here instead of beside the manifest (env FRONTIER_DATA_ROOT)",
    )
    parser.add_argument("--serve", action="store_true", help="keep Triton serving the promoted version until Ctrl-C")
    parser.add_argument("--http-port", type=int, default=None, help="Triton's HTTP port (a free one by default)")


def _console(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def main(args: argparse.Namespace) -> int:
    try:
        model = api.load(args.manifest)
    except SpecError as error:
        print(error, file=sys.stderr)
        return 2
    workdir = Workdir(args.workdir or Path("runs") / model.metadata.name)
    data_root = Path(args.data_root) if args.data_root else None
    # Ctrl-C and SIGTERM both unwind through the context managers: Triton and children are stopped.
    signal.signal(signal.SIGTERM, _interrupt)

    from frontier.runtime import serving_link

    lifecycle = pipeline.Lifecycle(model, args.manifest, workdir, data_root=data_root, say=_console)
    executor = pipeline.LocalExecutor(
        model,
        args.manifest,
        workdir,
        lambda: serving_link.TritonServing(model, workdir, http_port=args.http_port, say=_console),
        data_root=data_root,
        say=_console,
    )

    def keep(serving: pipeline.Serving) -> None:
        if args.serve:
            _console(f"serving {model.model_name!r} at {getattr(serving, 'url', '?')}; Ctrl-C stops")
            while True:
                time.sleep(3600)

    try:
        status = pipeline.run(lifecycle, executor, keep)
    except KeyboardInterrupt:
        _console("interrupted: Triton and child processes stopped; re-run to resume")
        return 130
    except FrontierError as error:
        print(f"frontier run: {error}", file=sys.stderr)
        return 1
    html = report.write(model, status, workdir.root)
    promoted = status.promoted
    _console(f"phase {status.phase}; status {workdir.status_file}; report {html}")
    if promoted is None:
        _console("no version promoted" + (f": {status.decision.message}" if status.decision else ""))
        return 1 if status.phase in ("Failed", "Degraded") else 0
    _console(
        f"promoted v{promoted.version} ({promoted.candidate}/{promoted.precision}): "
        f"macro-F1 {_num(promoted.macro_f1, '.4f')} (eval)"
        + (f", {promoted.test_macro_f1:.4f} (test)" if promoted.test_macro_f1 is not None else "")
        + f", p95 {_num(promoted.p95_ms, '.1f')} ms, "
        f"${_num(promoted.cost_per_1m, '.4f')}/1M, U {_num(promoted.utility, '.5g')}"
    )
    return 0
