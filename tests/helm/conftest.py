"""Fixtures for the chart tests. Rendering needs helm (built by .ci/build-helm.sh; ``chart.need_helm``);
the install tests also need a real etcd + kube-apiserver of their own (tests/envtest/cluster.py). Both
skip cleanly when the binaries are missing, and fail instead under FRONTIER_REQUIRE_ENVTEST=1 (CI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.envtest.cluster import EnvtestCluster, running_cluster

INSTALL_TESTS = Path(__file__).parent / "test_install.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)) == INSTALL_TESTS:
            item.add_marker(pytest.mark.k8s)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvtestCluster]:
    with running_cluster(tmp_path_factory.mktemp("helm-envtest")) as env:
        yield env
