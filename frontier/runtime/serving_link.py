"""The runtime's Triton: an embedded ``tritonserver`` over the work directory's model repository.

Adapts ``frontier.serving`` to what the lifecycle needs (``pipeline.Serving``): publish a version,
benchmark it through Triton, make the stable name serve it. The repository outlives the server, so a
re-run starts Triton again over the versions already published.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from frontier.api.resource import ClassifierModel
from frontier.api.status import Metrics
from frontier.runtime.workdir import Workdir
from frontier.serving import benchmark, swap
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository
from frontier.serving.server import EmbeddedTriton


class TritonServing:
    def __init__(
        self, model: ClassifierModel, workdir: Workdir, *, http_port: int | None = None, say: Callable[[str], None]
    ) -> None:
        self.spec = model.spec
        self.say = say
        self.repository = ModelRepository(workdir.repository, model.model_name, model.spec.serving)
        self.triton = EmbeddedTriton(workdir.repository, http_port=http_port, log_path=workdir.logs / "triton.log")
        self.client: TritonClient | None = None
        self.loaded: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://{self.triton.http_url}"

    def __enter__(self) -> TritonServing:
        self.triton.start()
        self.client = TritonClient(self.triton.http_url)
        self.say(f"Triton ready at {self.url} (log {self.triton.log_path})")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            self.client.close()
        self.triton.stop()

    def _client(self) -> TritonClient:
        if self.client is None:
            raise RuntimeError("Triton is not started")
        return self.client

    def publish(self, artifact: Path, precision: str, version: int) -> None:
        if version not in self.repository.published():
            self.repository.publish(artifact, precision, version)
        if version not in self.loaded:
            self._client().load_version(self.repository, version)  # verifies every file's sha256 first
            self.loaded.add(version)

    def benchmark(self, version: int, texts: list[str], labels: list[int], reference: list[int] | None) -> Metrics:
        return benchmark.benchmark_version(
            self.triton.http_url,
            self.repository.version_model(version),
            texts,
            labels,
            self.spec.labels,
            self.spec.benchmark,
            max_p95_ms=self.spec.promotion.guardrails.max_p95_ms,
            reference=reference,
        )

    def promote(self, version: int) -> None:
        client = self._client()
        if swap.promoted_version(client, self.repository) == version:
            return
        if version not in self.loaded and version in self.repository.published():
            self.repository.verify_version(version)
        result = swap.promote(client, self.repository, version)
        name = self.repository.model_name
        self.say(f"stable name {name!r}: v{result.previous} → v{version} in {result.seconds:.2f}s")
