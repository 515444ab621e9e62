"""``frontier validate FILE...``: every broken rule of every manifest, with its field path."""

from __future__ import annotations

import argparse
import sys

from frontier import api
from frontier.errors import SpecError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="ClassifierModel manifests (YAML)")


def main(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            model = api.load(path)
        except SpecError as error:
            failed += 1
            print(error, file=sys.stderr)
            continue
        problems = api.check_against_status(model)
        if problems:
            failed += 1
            print(SpecError(problems, path), file=sys.stderr)
            continue
        spec = model.spec
        print(
            f"{path}: ok — {model.metadata.name}: {len(spec.labels)} labels, "
            f"{len(spec.candidates)} candidate(s) × {len(spec.export.precisions)} precision(s), "
            f"τ = {spec.promotion.tau}, policy {spec.promotion.policy}"
        )
    return 1 if failed else 0
