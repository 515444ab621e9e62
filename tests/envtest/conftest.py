"""Fixtures for tests against a real etcd + kube-apiserver (see ``cluster.py``).

One API server per test session (a few seconds to start); each test gets its own namespace, since
nothing runs the namespace controller that would finish deleting one. The CRD is applied once from
``crds/classifiermodel.yaml``, the file ``frontier crd`` generates.

Without the binaries the tests skip with the reason, unless ``FRONTIER_REQUIRE_ENVTEST=1`` (CI), where
a missing binary is a failure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from frontier.operator.settings import OperatorSettings

from .cluster import EnvtestCluster, running_cluster
from .standin import JobController, RunningOperator

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "classifiermodel.yaml"
_counter = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.k8s)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvtestCluster]:
    with running_cluster(tmp_path_factory.mktemp("envtest")) as env:
        yield env


@pytest.fixture(scope="session")
def crd(cluster: EnvtestCluster) -> dict[str, Any]:
    document = yaml.safe_load(CRD_FILE.read_text())
    return cluster.apply_crd(document)


@pytest.fixture
def namespace(cluster: EnvtestCluster, request: pytest.FixtureRequest) -> str:
    base = request.node.name.lower().replace("_", "-")
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in base)[:40].strip("-")
    name = f"t{next(_counter)}-{name}".strip("-")[:63].rstrip("-")
    cluster.ensure_namespace(name)
    return name


@pytest.fixture
def settings(cluster: EnvtestCluster, crd: dict[str, Any], namespace: str) -> OperatorSettings:
    """An operator watching the test's namespace, resyncing often; modules override it when they need to."""
    return OperatorSettings(
        namespaces=(namespace,),
        kubeconfig=str(cluster.kubeconfig),
        resync_s=2.0,
        liveness=None,
        metrics_port=None,
        worker_image="frontier-worker:test",
        artifacts="/frontier/artifacts",
    )


@pytest.fixture
def operator(settings: OperatorSettings) -> Iterator[RunningOperator]:
    with RunningOperator(settings) as running:
        yield running


@pytest.fixture
def jobs(cluster: EnvtestCluster, namespace: str) -> JobController:
    return JobController(cluster, namespace)
