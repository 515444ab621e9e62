"""An LLM baseline through the operator: a real API server, the baseline Job's own command run on this machine
(the stand-in kubelet resolves its Secret reference as the kubelet does), a real chat-completions server.

A missing Secret does not leave a pod stuck: the reference is optional, ``frontier baseline`` fails with
CredentialsMissing published as its result, and the status says so. With the Secret there, the Job asks the
endpoint with its key and the measurement lands in ``status.baselines``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.helpers import LABELS, tiny_rows, write_jsonl

from . import manifests
from .cluster import EnvtestCluster
from .standin import JobController, RunningOperator, wait_for
from .workload import LocalWorkload

pytestmark = [pytest.mark.ml, pytest.mark.timeout(300)]


def model(cluster: EnvtestCluster, namespace: str) -> dict[str, Any]:
    return cluster.request("GET", manifests.path(namespace, "sentiment"))


def baseline_of(cluster: EnvtestCluster, namespace: str) -> dict[str, Any]:
    return ((model(cluster, namespace).get("status") or {}).get("baselines") or [{}])[0]


def test_a_baseline_job_asks_the_endpoint_with_the_secrets_key_and_a_missing_secret_is_a_message(
    cluster: EnvtestCluster, namespace: str, operator: RunningOperator, jobs: JobController, tmp_path: Path
) -> None:
    from tests.baselines.server import ChatServer, train_answerer

    server = ChatServer(*train_answerer()).serve()
    data = write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    llm = {"endpoint": server.url, "model": "tiny-qwen3", "credentials": {"name": "llm-key"}, "sampleSize": 9,
           "maxOutputTokens": 3, "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.60}
    manifest = manifests.valid("sentiment", baselines=[{"name": "tiny-llm", "llm": llm}])
    manifest["spec"]["labels"] = LABELS
    manifest["spec"]["dataset"] = {"train": {"uri": str(data)}, "evalFraction": 0.2}
    cluster.request("POST", manifests.path(namespace), manifest)
    workload = LocalWorkload(cluster, tmp_path / "pods", timeout_s=120)

    [(name, job)] = jobs.wait_jobs(1, role_="baseline").items()
    first = jobs.execute(job, workload)
    assert not first.succeeded and server.requests == 0
    failed = wait_for(lambda: (b := baseline_of(cluster, namespace)).get("reason") == "CredentialsMissing" and b,
                      30, what="the missing Secret in status")
    assert "FRONTIER_BASELINE_TINY_LLM_API_KEY" in failed["message"] and "measured" not in failed

    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "llm-key"},
              "data": {"apiKey": base64.b64encode(b"sk-test").decode()}}
    cluster.request("POST", f"/api/v1/namespaces/{namespace}/secrets", secret)
    cluster.request("DELETE", f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}?propagationPolicy=Background")
    jobs.finished.discard(name)
    again = wait_for(lambda: (j := jobs.jobs().get(name)) and j["metadata"]["uid"] != job["metadata"]["uid"] and j,
                     30, what="the baseline Job made again")
    assert jobs.execute(again, workload).succeeded

    measured = wait_for(lambda: (b := baseline_of(cluster, namespace)).get("measured") and b, 30, what="measured")
    assert measured["measured"]["rows"] == 9 and measured["measured"]["requests"] == 9 == server.requests
    assert set(server.authorizations) == {"Bearer sk-test"}  # the Secret's key, sent as the bearer token only
    assert measured["kind"] == "llm" and measured["costPer1M"] > 0 and 0.0 <= measured["macroF1"] <= 1.0
    assert "sk-test" not in str(model(cluster, namespace))  # never in the spec or the status
