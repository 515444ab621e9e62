"""One object for the local runtime (``frontier run``): an embedded Triton, Frontier's repository, the
benchmark and the stable-name swaps, behind five calls.

    with LocalServing(repository_root, "agnews", spec.serving, log_path=...) as serving:
        serving.publish(artifact_dir, "fp32", 1)          # copy + verify checksums, then load <m>__v1
        metrics = serving.benchmark(1, texts, gold, reference, spec.benchmark, labels, max_p95_ms)
        serving.promote(1)                                 # stable name <m> → version 1, zero-error
        serving.rollback(1)                                # the same switch, back to an earlier version
    # Triton and its python-backend stubs are stopped here

Starting Triton promotes nothing: in explicit model-control mode a (re)started Triton serves nothing, and
what the stable name should serve is the caller's status, not a file in the repository. The local executor
observes ``promoted()`` on every pass and promotes when it differs from its status (level-triggered, as
the operator does), so a restart is recovered by the next pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from frontier.api.spec import BenchmarkSpec, ServingSpec
from frontier.api.status import Metrics
from frontier.serving import swap
from frontier.serving.client import Prediction, TritonClient
from frontier.serving.interference import Monitor
from frontier.serving.repository import ModelRepository, PublishedVersion
from frontier.serving.rounds import Contender, benchmark_together
from frontier.serving.server import EmbeddedTriton


class LocalServing:
    def __init__(
        self,
        repository_root: Path,
        model_name: str,
        serving: ServingSpec | None = None,
        *,
        http_port: int | None = None,
        log_path: Path | None = None,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.repository = ModelRepository(Path(repository_root), model_name, serving)
        self.triton = EmbeddedTriton(
            self.repository.root, http_port=http_port, log_path=log_path, startup_timeout_s=startup_timeout_s
        )
        self._client: TritonClient | None = None

    @property
    def url(self) -> str:
        return self.triton.http_url

    @property
    def client(self) -> TritonClient:
        if self._client is None:
            self._client = TritonClient(self.triton.http_url)
        return self._client

    def start(self) -> LocalServing:
        self.triton.start()
        self._client = TritonClient(self.triton.http_url)
        return self

    def stop(self) -> None:
        self.triton.stop()
        self._client = None

    def __enter__(self) -> LocalServing:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def publish(self, artifact: Path, precision: str, version: int, load: bool = True) -> PublishedVersion:
        published = self.repository.publish(artifact, precision, version)
        if load:
            self.client.load_version(self.repository, version)
        return published

    def infer(self, texts: list[str], version: int | None = None) -> list[Prediction]:
        """Through the stable name, or through version ``version``'s own model."""
        name = self.repository.model_name if version is None else self.repository.version_model(version)
        return self.client.infer(name, texts)

    def measure(
        self,
        contenders: Sequence[Contender],
        spec: BenchmarkSpec,
        labels: Sequence[str],
        max_p95_ms: float | None = None,
    ) -> dict[int, Metrics]:
        """The versions measured together (``frontier.serving.rounds``), the load generator's and this
        Triton's processes counted as the measurement's own CPU, not interference."""
        monitor = Monitor([self.triton.pgid])
        return benchmark_together(self.url, contenders, labels, spec, max_p95_ms=max_p95_ms, monitor=monitor)

    def promote(self, version: int) -> swap.Swap:
        return swap.promote(self.client, self.repository, version)

    def rollback(self, to_version: int) -> swap.Swap:
        return swap.rollback(self.client, self.repository, to_version)

    def promoted(self) -> int | None:
        """The version the stable name serves, as Triton says (None: none, or not exactly one)."""
        return swap.promoted_version(self.client, self.repository)

    def retire(self, version: int) -> None:
        swap.retire(self.client, self.repository, version)
