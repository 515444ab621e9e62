"""The ``frontier`` command. Each verb's module loads only when that verb runs, so ``frontier validate``
and ``frontier crd`` never import torch, and ``frontier operator`` never imports transformers.

A verb lives in a module that exposes ``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import frontier

# verb -> (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "validate": (
        "frontier.commands.validate",
        "check ClassifierModel manifests; exit 1 with the field errors",
    ),
    "crd": ("frontier.commands.crd", "print the CustomResourceDefinition generated from the API models"),
    "train": ("frontier.trainer.entry", "fine-tune, evaluate and export one candidate (the training Job)"),
    "bench": ("frontier.serving.entry", "benchmark one served version through Triton (the benchmark Job)"),
    "baseline": ("frontier.baselines.entry", "measure a prompted LLM baseline through its endpoint (the baseline Job)"),
    "run": ("frontier.runtime.entry", "run the whole lifecycle on this machine with an embedded Triton"),
    "operator": ("frontier.operator.entry", "run the Kubernetes operator (kopf)"),
}


def build_parser(load: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontier",
        description="Train, export, serve, benchmark and promote text classifiers.",
    )
    parser.add_argument("--version", action="version", version=f"frontier {frontier.__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        if load is None or verb in load:
            importlib.import_module(module_name).add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Only the chosen verb's module is imported: a light `--help` and no torch for `validate`.
    chosen = [a for a in argv if a in VERBS][:1]
    parser = build_parser(load=chosen or [])
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    code: int = importlib.import_module(args._module).main(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
