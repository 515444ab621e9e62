"""Talking to Triton: load, unload, readiness and inference of Frontier classifiers, over HTTP.

A thin, typed layer over Triton's HTTP/REST protocol whose failures are ``ServingError`` (never a bare
``InferenceServerException``), so the operator can treat them as temporary. ``load_version`` re-verifies a
published version's checksums (``ModelRepository.verify_version``) before asking Triton to load it: a file
changed on the shared volume after publishing is refused, not served.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import numpy as np

from frontier.errors import ServingError
from frontier.serving.configs import LABEL, PROBABILITIES, PROBABILITY, TEXT
from frontier.serving.repository import ModelRepository


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float
    probabilities: list[float]


def text_input(texts: list[str], module: Any) -> Any:
    """An ``InferInput`` named TEXT, shape [batch, 1], BYTES; ``module`` is tritonclient.http or .grpc."""
    array = np.array([t.encode("utf-8") for t in texts], dtype=np.object_).reshape(-1, 1)
    tensor = module.InferInput(TEXT, list(array.shape), "BYTES")
    tensor.set_data_from_numpy(array)
    return tensor


def predictions_from(result: Any) -> list[Prediction]:
    labels = result.as_numpy(LABEL).reshape(-1)
    best = result.as_numpy(PROBABILITY).reshape(-1)
    every = result.as_numpy(PROBABILITIES)
    return [
        Prediction(
            label=label.decode("utf-8") if isinstance(label, bytes) else str(label),
            probability=float(p),
            probabilities=[float(x) for x in row],
        )
        for label, p, row in zip(labels, best, every, strict=True)
    ]


class TritonClient:
    """A synchronous client for one Triton server (``url`` is ``host:port`` of its HTTP endpoint).

    Plain ``urllib`` over Triton's HTTP/REST protocol (one connection per call): safe to use from any
    thread, including kopf's executor and ``asyncio.to_thread`` — tritonclient's own HTTP client is
    gevent-based and refuses to be called from a thread other than the one that created it. Request and
    response bodies are still built and parsed by tritonclient (binary tensor extension).
    """

    def __init__(self, url: str, timeout_s: float = 120.0) -> None:
        self.url = url.removeprefix("http://").rstrip("/")
        self.timeout_s = timeout_s

    def close(self) -> None:
        """Nothing to release (no connection is kept); here for symmetry."""

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self, what: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[bytes, dict[str, str]]:
        request = urllib.request.Request(
            f"http://{self.url}{path}", data=body, headers=headers or {}, method="GET" if body is None else "POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.read(), dict(response.headers.items())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError):
                detail = json.loads(detail).get("error", detail)
            raise ServingError(f"Triton at {self.url}: {what} failed: {detail}") from None
        except (OSError, urllib.error.URLError) as error:
            raise ServingError(f"Triton at {self.url}: {what} failed: {error}") from None

    def _ok(self, path: str) -> bool:
        try:
            self._request("health", path)
        except ServingError:
            return False
        return True

    # ---------------------------------------------------------------------------- health
    def server_ready(self) -> bool:
        return self._ok("/v2/health/ready")

    def model_ready(self, name: str, version: int | None = None) -> bool:
        suffix = "" if version is None else f"/versions/{version}"
        return self._ok(f"/v2/models/{name}{suffix}/ready")

    def repository_index(self) -> list[dict[str, Any]]:
        body, _ = self._request("repository index", "/v2/repository/index", b"{}")
        index: list[dict[str, Any]] = json.loads(body)
        return index

    def loaded_versions(self, name: str) -> list[int]:
        """Versions of ``name`` Triton reports READY."""
        return sorted(
            int(entry["version"])
            for entry in self.repository_index()
            if entry.get("name") == name and entry.get("state") == "READY" and entry.get("version")
        )

    # ------------------------------------------------------------------------- lifecycle
    def load(self, name: str, config: str | None = None) -> None:
        """Load (or reload) ``name``; ``config`` is an optional JSON ModelConfig override."""
        payload: dict[str, Any] = {"parameters": {"config": config}} if config else {}
        self._request(f"loading {name}", f"/v2/repository/models/{name}/load", json.dumps(payload).encode())

    def unload(self, name: str, wait_s: float = 30.0) -> None:
        self._request(f"unloading {name}", f"/v2/repository/models/{name}/unload", b"{}")
        deadline = time.monotonic() + wait_s
        while self.model_ready(name) and time.monotonic() < deadline:
            time.sleep(0.05)

    def load_version(self, repository: ModelRepository, version: int) -> str:
        """Verify and load the model serving exactly ``version``; returns its Triton name."""
        repository.verify_version(version)
        for name in repository.models_of(version):
            self.load(name)
        return repository.version_model(version)

    def unload_version(self, repository: ModelRepository, version: int) -> None:
        for name in reversed(repository.models_of(version)):
            self.unload(name)

    # ------------------------------------------------------------------------- inference
    def infer(self, name: str, texts: list[str], version: int | None = None, batch_size: int = 8) -> list[Prediction]:
        """Predictions for ``texts``, sent ``batch_size`` at a time (at most the model's max_batch_size)."""
        out: list[Prediction] = []
        for start in range(0, len(texts), batch_size):
            out.extend(self._infer(name, texts[start : start + batch_size], version))
        return out

    def _infer(self, name: str, texts: list[str], version: int | None) -> list[Prediction]:
        import tritonclient.http as http

        outputs = [http.InferRequestedOutput(o, binary_data=True) for o in (LABEL, PROBABILITY, PROBABILITIES)]
        body, header_length = http.InferenceServerClient.generate_request_body([text_input(texts, http)], outputs)
        headers = {"Content-Type": "application/octet-stream"}
        if header_length is not None:
            headers["Inference-Header-Content-Length"] = str(header_length)
        suffix = "" if version is None else f"/versions/{version}"
        answer, answer_headers = self._request(
            f"inference on {name}", f"/v2/models/{name}{suffix}/infer", body, headers
        )
        length = {k.lower(): v for k, v in answer_headers.items()}.get("inference-header-content-length")
        result = http.InferenceServerClient.parse_response_body(answer, header_length=int(length) if length else None)
        return predictions_from(result)
