"""The Helm chart, rendered offline: it lints, renders what the operator needs, and refuses bad values
with the schema's message before anything reaches a cluster."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from frontier.api import crd
from tests.helm.chart import CHART, REPO, by_kind, fails, helm, one, operator_container, render

# What the operator never touches: it reads no Secret (Jobs get them by reference) and grants nothing
# cluster-wide. It creates each Job's ServiceAccount, Role and RoleBinding (create only, checked below).
FORBIDDEN_RESOURCES = {"secrets", "pods", "nodes", "clusterroles", "clusterrolebindings"}
JOB_IDENTITY = {"serviceaccounts", "roles", "rolebindings"}


def _args(documents: list[dict[str, Any]]) -> list[str]:
    return list(operator_container(documents)["args"])


def test_the_chart_lints_strictly():
    done = helm("lint", "--strict", str(CHART))
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


def test_the_chart_ships_the_generated_crd_unchanged():
    shipped = (CHART / "crds" / "classifiermodel.yaml").read_text()
    assert shipped == (REPO / "crds" / "classifiermodel.yaml").read_text(), "make crds"
    assert shipped == crd.render(), "run: frontier crd -o crds/classifiermodel.yaml (and copy it into the chart)"


def test_the_chart_ships_kopfs_peering_crds_in_the_group_kopf_uses():
    documents = list(yaml.safe_load_all((CHART / "crds" / "kopfpeerings.yaml").read_text()))
    names = {(d["spec"]["group"], d["spec"]["names"]["kind"], d["spec"]["scope"]) for d in documents}
    assert names == {("kopf.dev", "ClusterKopfPeering", "Cluster"), ("kopf.dev", "KopfPeering", "Namespaced")}


def test_default_render_has_every_part():
    documents = render(include_crds=True)
    kinds = sorted({d["kind"] for d in documents})
    assert kinds == [
        "ClusterKopfPeering",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
        "ServiceAccount",
    ]
    assert len(by_kind(documents, "CustomResourceDefinition")) == 3
    assert {d["metadata"]["name"] for d in by_kind(documents, "Deployment")} == {"frontier", "triton"}


def test_the_operator_runs_two_peered_replicas_with_probes_on_kopfs_health_endpoint():
    documents = render()
    deployment = one(documents, "Deployment", "frontier")
    assert deployment["spec"]["replicas"] == 2
    container = operator_container(documents)
    args = _args(documents)
    assert "--peering=frontier" in args and "--all-namespaces" in args
    assert "--liveness=http://0.0.0.0:8081/healthz" in args and "--metrics-port=8080" in args
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert one(documents, "ClusterKopfPeering")["metadata"]["name"] == "frontier"


def test_the_operator_pod_is_hardened():
    documents = render()
    pod = one(documents, "Deployment", "frontier")["spec"]["template"]["spec"]
    container = operator_container(documents)
    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_watched_namespaces_get_roles_and_peerings_and_no_cluster_wide_write():
    documents = render({"watchNamespaces": ["team-a", "team-b"]})
    args = _args(documents)
    assert "--namespace=team-a" in args and "--namespace=team-b" in args and "--all-namespaces" not in args
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in by_kind(documents, "Role")}
    assert roles == {("team-a", "frontier"), ("team-b", "frontier")}
    peerings = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in by_kind(documents, "KopfPeering")}
    assert peerings == {("team-a", "frontier"), ("team-b", "frontier")}
    assert not by_kind(documents, "ClusterKopfPeering")
    cluster_rules = one(documents, "ClusterRole")["rules"]
    assert [(r["resources"], r["verbs"]) for r in cluster_rules] == [
        (["customresourcedefinitions"], ["get", "list", "watch"]),
        (["namespaces"], ["list", "watch"]),
    ]


def test_no_rule_grants_secrets_wildcards_or_escalation():
    for values in ({}, {"watchNamespaces": ["team-a"]}):
        documents = render(values)
        for role in by_kind(documents, "Role") + by_kind(documents, "ClusterRole"):
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], rule
                assert not FORBIDDEN_RESOURCES & set(rule["resources"]), rule
                assert not {"escalate", "bind", "impersonate", "update"} & set(rule["verbs"]), rule
                if JOB_IDENTITY & set(rule["resources"]):
                    assert rule["verbs"] == ["create"], rule


def _env(documents: list[dict[str, Any]]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in operator_container(documents)["env"]}


def test_jobs_get_an_identity_of_their_own_and_no_shared_worker_role():
    # The operator creates a ServiceAccount + Role (its own result ConfigMap, by name) per Job: the chart
    # makes no worker identity that could patch every ConfigMap, and the operator can grant what it holds.
    for values in ({}, {"watchNamespaces": ["team-a"]}):
        documents = render(values)
        assert not [a for a in _args(documents) if a.startswith("--service-account")]
        assert {d["metadata"]["name"] for d in by_kind(documents, "ServiceAccount")} == {"frontier"}
        rules = [r for d in by_kind(documents, "Role") + by_kind(documents, "ClusterRole") for r in d["rules"]]
        granted = {(v, res) for r in rules for v in r["verbs"] for res in r["resources"]}
        assert {("create", "serviceaccounts"), ("create", "roles"), ("create", "rolebindings")} <= granted
        assert {("get", "configmaps"), ("patch", "configmaps")} <= granted  # what a Job's Role grants
    documents = render({"worker": {"serviceAccountName": "shared-worker"}})
    assert "--service-account=shared-worker" in _args(documents)


def test_the_admins_policy_and_the_jobs_ids_reach_the_operator():
    defaults = _env(render())
    assert {
        k: defaults[k] for k in defaults if k.startswith(("FRONTIER_OPERATOR_ALLOWED", "FRONTIER_OPERATOR_RUN"))
    } == {
        "FRONTIER_OPERATOR_ALLOWED_IMAGES": "",
        "FRONTIER_OPERATOR_ALLOWED_PVCS": "",
        "FRONTIER_OPERATOR_ALLOWED_SECRETS": "",
        "FRONTIER_OPERATOR_ALLOWED_ENDPOINTS": "",
        "FRONTIER_OPERATOR_RUN_AS_USER": "10001",
        "FRONTIER_OPERATOR_RUN_AS_GROUP": "10001",
    }
    values = {
        "policy": {
            "allowedImages": ["ghcr.io/acme/", "ghcr.io/frontier-ml/frontier-worker"],
            "allowedPVCs": ["frontier-data"],
            "allowedSecrets": ["team-s3", "team-gcs"],
            "allowedEndpoints": ["http://triton.frontier:8000"],
        },
        "worker": {"securityContext": {"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532}},
    }
    documents = render(values)
    env = _env(documents)
    assert env["FRONTIER_OPERATOR_ALLOWED_IMAGES"] == "ghcr.io/acme/,ghcr.io/frontier-ml/frontier-worker"
    assert env["FRONTIER_OPERATOR_ALLOWED_SECRETS"] == "team-s3,team-gcs"
    # What the operator makes of it: the same parsing as in a pod (settings.from_environment).
    from frontier.operator.settings import from_environment

    settings = from_environment({k: v for k, v in env.items() if v is not None})
    assert settings.allowed_images == ("ghcr.io/acme/", "ghcr.io/frontier-ml/frontier-worker")
    assert settings.allowed_pvcs == ("frontier-data",) and settings.allowed_secrets == ("team-s3", "team-gcs")
    assert settings.allowed_endpoints == ("http://triton.frontier:8000",)
    assert (settings.run_as_user, settings.run_as_group, settings.fs_group) == (65532, 65532, 65532)


def test_triton_serves_the_shared_repository_with_explicit_model_control():
    documents = render({"triton": {"gpu": 1}})
    triton = one(documents, "Deployment", "triton")["spec"]["template"]["spec"]
    container = triton["containers"][0]
    assert container["image"].startswith("nvcr.io/nvidia/tritonserver:") and container["image"].endswith("-py3")
    assert "--model-control-mode=explicit" in container["args"]
    assert "--model-repository=/frontier/models" in container["args"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert {v["persistentVolumeClaim"]["claimName"] for v in triton["volumes"] if "persistentVolumeClaim" in v} == {
        "frontier-data"
    }
    assert one(documents, "Service", "triton")["spec"]["ports"][0]["port"] == 8000
    assert "--triton-endpoint=http://triton.frontier:8000" in _args(documents)


@pytest.mark.parametrize(
    "s3",
    [{"bucket": "models", "accessKeyId": "k", "secretAccessKey": "s"}, {"bucket": "models"}],
    ids=["with-credentials", "without-credentials"],
)
def test_s3_storage_is_refused_until_the_jobs_can_write_to_it(s3):
    # An s3:// root became a local directory named "s3:" in every Job; the API refuses it as well.
    error = fails({"storage": {"mode": "s3", "s3": s3}})
    assert "storage.mode s3 is not supported yet" in error and "use storage.mode pvc" in error


def test_the_service_monitor_is_optional():
    assert not by_kind(render(), "ServiceMonitor")
    monitor = one(render({"metrics": {"serviceMonitor": {"enabled": True}}}), "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


@pytest.mark.parametrize(
    ("set_args", "message"),
    [
        (("--set", "replicas=two"), "at '/replicas': got string, want integer"),
        (("--set", "image.pullPolicy=Sometimes"), "value must be one of 'Always', 'IfNotPresent', 'Never'"),
        (("--set", "worker.image.pullPolicy=always"), "at '/worker/image/pullPolicy'"),
        (("--set", "watchNamespaces[0]=Team_A"), "at '/watchNamespaces/0'"),
        (("--set", "storage.mode=nfs"), "at '/storage/mode'"),
        (("--set", "storage.mode=s3"), "at '/storage/s3/bucket'"),
        (("--set", "replica=2"), "additional properties 'replica' not allowed"),
        (("--set", "triton.replicas=2"), "at '/triton/replicas'"),
        (("--set", "worker.securityContext.runAsUser=0"), "at '/worker/securityContext/runAsUser'"),
        (("--set-json", 'policy.allowedImages=["a,b"]'), "at '/policy/allowedImages/0'"),
        (("--set-json", 'policy.allowedEndpoints=["triton:8000"]'), "at '/policy/allowedEndpoints/0'"),
        (("--set-json", 'policy.allowedPVCs=["Data"]'), "at '/policy/allowedPVCs/0'"),
        (("--set", "worker.serviceAccount.create=true"), "additional properties 'serviceAccount' not allowed"),
    ],
    ids=lambda v: v if isinstance(v, str) else v[1],
)
def test_bad_values_fail_with_the_schema_message(set_args, message):
    error = fails(None, *set_args)
    assert "values don't meet the specifications of the schema" in error
    assert message in error
