"""``frontier train``: the training Job's command. Fine-tunes one candidate of a ClassifierModel manifest
and publishes its artifact directory.

Exit codes: 0 artifact published; 2 bad input (the manifest, the candidate name or the data: retrying
cannot help); 1 training, export or parity failed, or the run was interrupted after a checkpoint
(retry with ``--resume``). Under torchrun (``WORLD_SIZE`` > 1) every rank runs this same command.

As the operator's training Job, a failure other than an interruption is also reported through the Job's
result ConfigMap (``frontier.results.publish_failure``: the error's name, its message and the exit code),
so the version's status says which row of which file was wrong. An interruption is not reported: the Job
retries it (a preempted pod does not count against its backoffLimit) and resumes from the checkpoint.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

from frontier.errors import DataError, SpecError, TrainingError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, type=Path, help="the ClassifierModel YAML")
    parser.add_argument("--candidate", required=True, help="spec.candidates[].name to train")
    parser.add_argument("--out", required=True, type=Path, help="the artifact directory to publish")
    parser.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="resolve relative dataset URIs here (default: $FRONTIER_DATA_ROOT, else the manifest's directory)",
    )
    parser.add_argument("--train-uri", default=None, help="override spec.dataset.train.uri")
    parser.add_argument("--eval-uri", default=None, help="override spec.dataset.eval.uri")
    parser.add_argument(
        "--max-train-samples", type=int, default=None, help="override spec.dataset.maxTrainSamples (stratified)"
    )
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help="default: <out>.checkpoints")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="override hyperparameters.timeBudget: plan the run to fill this many seconds",
    )
    parser.add_argument("--stop-after-steps", type=int, default=None, help=argparse.SUPPRESS)  # tests: preemption


def main(args: argparse.Namespace) -> int:
    from frontier.api.resource import load

    stop = {"requested": False}

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop["requested"] = True  # Kubernetes preemption: checkpoint at the next step, then exit 1

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        model = load(args.manifest)
        from frontier.data.sources import data_root
        from frontier.trainer.pipeline import RunOptions, train_candidate

        options = RunOptions(
            train_uri=args.train_uri,
            eval_uri=args.eval_uri,
            max_train_samples=args.max_train_samples,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.resume,
            stop_after_steps=args.stop_after_steps,
            time_budget_s=args.time_budget,
            preempt_requested=lambda: stop["requested"],
        )
        root = data_root(args.data_root, args.manifest)
        manifest = train_candidate(model, args.candidate, args.out, data_root=root, options=options)
    except (SpecError, DataError) as error:
        print(f"frontier train: bad input: {error}", file=sys.stderr)
        return _failed(error, 2)
    except TrainingError as error:
        print(f"frontier train: failed: {error}", file=sys.stderr)
        return 1 if _interrupted(error) else _failed(error, 1)
    except Exception as error:  # a bug or the machine (out of memory...): say so, then the traceback
        _failed(error, 1)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    from frontier import results
    from frontier.artifact import MANIFEST, sha256_file

    # As the operator's training Job: report the artifact through the Job's result ConfigMap.
    artifact = {"uri": args.out.resolve().as_uri(), "sha256": sha256_file(args.out / MANIFEST)}
    results.publish({"artifact": artifact})
    f1 = manifest.metrics.get("macro_f1", float("nan"))
    print(
        f"trained {manifest.name}/{manifest.candidate}: eval macro-F1 {f1:.4f}, "
        f"precisions {', '.join(manifest.precisions)} → {args.out}"
    )
    return 0


def _failed(error: BaseException, exit_code: int) -> int:
    """Report ``error`` to the operator (best effort), then exit with ``exit_code``."""
    from frontier import results

    results.publish_failure(type(error).__name__, str(error), exit_code)
    return exit_code


def _interrupted(error: TrainingError) -> bool:
    """A checkpointed stop (SIGTERM, ``--stop-after-steps``): retried, so not a failure to report."""
    loop = sys.modules.get("frontier.trainer.loop")  # not imported yet: training never started
    return loop is not None and isinstance(error, loop.TrainingInterrupted)
