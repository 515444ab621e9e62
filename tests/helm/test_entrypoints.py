"""The chart, the images and the CLI agree on what runs: the Deployment and the operator image run
``frontier operator``; the worker image runs ``frontier``, and the Jobs the operator builds call verbs
that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from frontier.api.resource import parse
from frontier.api.status import Artifact
from frontier.cli import VERBS, build_parser
from frontier.decision.work import Contender
from frontier.operator import entry, jobs
from tests.conftest import MINIMAL
from tests.helm.chart import REPO, operator_arguments, operator_container, render


def entrypoint(dockerfile: Path) -> list[str]:
    """The exec-form ENTRYPOINT of a Dockerfile's last stage."""
    found = re.findall(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile.read_text(), flags=re.M)
    assert found, f"{dockerfile} has no exec-form ENTRYPOINT"
    return list(json.loads(found[-1]))


def test_the_chart_runs_what_the_operator_image_runs():
    container = operator_container(render())
    assert container["command"] == ["frontier", "operator"]
    assert entrypoint(REPO / "operator" / "Dockerfile") == ["frontier", "operator"]


def test_the_charts_operator_flags_are_flags_of_frontier_operator():
    args = operator_arguments(render({"watchNamespaces": ["team-a"]}))
    assert args.verb == "operator" and args.namespaces == ["team-a"] and args.peering == "frontier"


def test_the_worker_image_runs_the_frontier_cli():
    assert entrypoint(REPO / "trainer" / "Dockerfile") == ["frontier"]


def test_the_jobs_the_chart_configures_call_verbs_of_the_cli():
    settings = entry.settings_from(operator_arguments(render()))
    assert settings.worker_image.startswith("ghcr.io/frontier-ml/frontier-worker:")
    model = parse(MINIMAL)
    target = jobs.Target(name="tickets", namespace="ns", uid="u", generation=1)
    train = jobs.train_job(target, model.spec, model.spec.candidates[0], settings)
    contender = Contender(1, "minilm", "fp32", 1, Artifact(uri="/frontier/artifacts/x", sha256="0" * 64))
    bench = jobs.bench_job(target, model.spec, 1, [contender], settings)
    commands = [j["spec"]["template"]["spec"]["containers"][0]["command"] for j in (train, bench)]
    assert [c[:2] for c in commands] == [["frontier", "train"], ["frontier", "bench"]]
    assert {"train", "bench", "operator"} <= set(VERBS)
    for command in commands:  # every flag the operator passes is one the verb accepts
        build_parser(load=[command[1]]).parse_args(command[1:])
