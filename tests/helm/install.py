"""``helm install`` without a Helm release: apply rendered manifests to the envtest API server.

CRDs first (as Helm installs ``crds/``), waiting until each is served; then every other object by
server-side apply, in helm's order. Kinds the server does not serve (a ServiceMonitor without the
prometheus-operator) are skipped and reported, as ``kubectl apply`` would fail on them.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tests.envtest.cluster import EnvtestCluster

FIELD_MANAGER = "frontier-chart-test"


def _resources(cluster: EnvtestCluster, group_version: str) -> dict[str, tuple[str, bool]]:
    """Discovery: kind -> (plural, namespaced) for one group/version; empty when not served."""
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    status, body = cluster.raw("GET", base)
    if status == 404:  # the API server answers unknown groups with a plain-text 404
        return {}
    assert status == 200, f"discovery of {group_version}: {status} {body[:300]!r}"
    listed = json.loads(body)
    return {r["kind"]: (r["name"], r["namespaced"]) for r in listed["resources"] if "/" not in r["name"]}


def object_path(cluster: EnvtestCluster, document: dict[str, Any]) -> str | None:
    """The API path of a manifest's object; None when the server does not serve its kind."""
    group_version, kind = document["apiVersion"], document["kind"]
    found = _resources(cluster, group_version).get(kind)
    if found is None:
        return None
    plural, namespaced = found
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    metadata = document["metadata"]
    if namespaced:
        return f"{base}/namespaces/{metadata['namespace']}/{plural}/{metadata['name']}"
    return f"{base}/{plural}/{metadata['name']}"


def apply(cluster: EnvtestCluster, documents: list[dict[str, Any]]) -> list[str]:
    """Apply every manifest; returns the kinds skipped because the server does not serve them."""
    skipped = []
    for document in documents:
        if document["kind"] == "CustomResourceDefinition":
            cluster.apply_crd(document)
    for document in documents:
        if document["kind"] == "CustomResourceDefinition":
            continue
        path = object_path(cluster, document)
        if path is None:
            skipped.append(document["kind"])
            continue
        cluster.request(
            "PATCH",
            f"{path}?fieldManager={FIELD_MANAGER}&force=true",
            document,  # JSON is YAML: the apply-patch content type takes it as is
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
    return skipped


def service_account_token(cluster: EnvtestCluster, namespace: str, name: str, seconds: int = 3600) -> str:
    """A bound token for a ServiceAccount (TokenRequest API), as the kubelet projects into its pods."""
    review = cluster.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": seconds}},
    )
    return str(review["status"]["token"])


def as_identity(cluster: EnvtestCluster, token: str) -> EnvtestCluster:
    """The same API server seen with another bearer token (requests only: never stop() it)."""
    return dataclasses.replace(cluster, token=token, _etcd=None, _apiserver=None)


def write_kubeconfig(cluster: EnvtestCluster, token: str, path: Any) -> str:
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "envtest", "cluster": {"server": cluster.server, "certificate-authority": str(cluster.ca_file)}}
        ],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "envtest", "user": "sa"}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)
