"""Running the helm CLI on the chart: where the binary is (built by .ci/build-helm.sh), and rendering.

Tests never need a cluster to render: ``helm template`` with ``--kube-version`` set to the envtest
API server's version, so the chart's ``kubeVersion`` constraint is checked against what we test on.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.envtest.cluster import K8S_VERSION, required

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "frontier"
HELM_VERSION = "3.22.0"


def helm_binary() -> Path:
    """``FRONTIER_HELM`` (a file) overrides the cache of ``.ci/build-helm.sh``."""
    explicit = os.environ.get("FRONTIER_HELM")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    base = Path(os.environ.get("FRONTIER_HELM_BIN", cache / "frontier" / "helm" / f"v{HELM_VERSION}"))
    return base / "helm"


def need_helm() -> Path:
    """The helm binary; skips (fails under FRONTIER_REQUIRE_ENVTEST=1) when it is not built."""
    binary = helm_binary()
    if not os.access(binary, os.X_OK):
        reason = f"helm not built at {binary}; run .ci/build-helm.sh"
        if required():
            pytest.fail(f"helm required (FRONTIER_REQUIRE_ENVTEST=1) but {reason}")
        pytest.skip(reason)
    return binary


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    # HELM_* dirs in a throwaway place: the tests must not read or write a developer's helm config.
    home = Path(os.environ.get("TMPDIR", "/tmp")) / "frontier-helm-test-home"
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    done = subprocess.run([str(need_helm()), *args], capture_output=True, text=True, env=env, timeout=60)
    if check and done.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done


def values_args(values: dict[str, Any] | None) -> list[str]:
    """``--set-json`` per top-level key: exact types, no --set string/number guessing."""
    import json

    return [arg for key, value in (values or {}).items() for arg in ("--set-json", f"{key}={json.dumps(value)}")]


def render(
    values: dict[str, Any] | None = None,
    *,
    namespace: str = "frontier",
    release: str = "frontier",
    include_crds: bool = False,
    extra: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The chart's manifests as dicts, in helm's install order."""
    args = ["template", release, str(CHART), "--namespace", namespace, "--kube-version", K8S_VERSION]
    if include_crds:
        args.append("--include-crds")
    done = helm(*args, *values_args(values), *extra)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def fails(values: dict[str, Any] | None = None, *set_args: str) -> str:
    """helm template's error message for values that must be refused."""
    args = ["template", "frontier", str(CHART), "--namespace", "frontier", "--kube-version", K8S_VERSION]
    done = helm(*args, *values_args(values), *set_args, check=False)
    assert done.returncode != 0, f"helm accepted the values:\n{done.stdout[:2000]}"
    return done.stderr


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in documents if d.get("kind") == kind]


def one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in by_kind(documents, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def operator_container(documents: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = one(documents, "Deployment", "frontier")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def operator_arguments(documents: list[dict[str, Any]]) -> Any:
    """The rendered Deployment's command line, parsed by the real ``frontier operator`` parser."""
    from frontier.cli import build_parser

    container = operator_container(documents)
    return build_parser(load=["operator"]).parse_args([*container["command"][1:], *container["args"]])
