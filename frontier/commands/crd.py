"""``frontier crd``: print the CRD generated from the pydantic models."""

from __future__ import annotations

import argparse
import sys

from frontier.api import crd


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write to this file instead of standard output")


def main(args: argparse.Namespace) -> int:
    text = crd.render()
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0
