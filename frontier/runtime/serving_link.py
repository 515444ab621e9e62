"""The runtime's Triton: ``frontier.serving.local.LocalServing`` shaped as the lifecycle's ``Serving``.

The repository lives in the work directory and outlives the server: a re-run starts Triton again over
the versions already published (and the stable name serves what was promoted), loading a version only
the first time this run needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from frontier.api.resource import ClassifierModel
from frontier.api.status import Metrics
from frontier.runtime.workdir import Workdir
from frontier.serving.local import LocalServing
from frontier.serving.rounds import Contender


class TritonServing:
    def __init__(
        self, model: ClassifierModel, workdir: Workdir, *, http_port: int | None = None, say: Callable[[str], None]
    ) -> None:
        self.spec = model.spec
        self.say = say
        self.local = LocalServing(
            workdir.repository,
            model.model_name,
            model.spec.serving,
            http_port=http_port,
            log_path=workdir.logs / "triton.log",
        )
        self.loaded: set[int] = set()

    @property
    def url(self) -> str:
        return f"http://{self.local.url}"

    def __enter__(self) -> TritonServing:
        self.local.start()
        self.say(f"Triton ready at {self.url} (log {self.local.triton.log_path})")
        return self

    def __exit__(self, *exc: object) -> None:
        self.local.stop()

    def publish(self, artifact: Path, precision: str, version: int) -> None:
        if version in self.loaded:
            return
        if version in self.local.repository.published():
            self.local.client.load_version(self.local.repository, version)  # verifies every file's sha256
        else:
            self.local.publish(artifact, precision, version)
        self.loaded.add(version)

    def measure(self, contenders: list[Contender]) -> dict[int, Metrics]:
        return self.local.measure(
            contenders, self.spec.benchmark, self.spec.labels, self.spec.promotion.guardrails.max_p95_ms
        )

    def discard(self, version: int) -> None:
        """A version that will never serve again leaves the repository (it was never loaded by this run, or
        is unloaded first)."""
        if version in self.loaded:
            self.local.client.unload_version(self.local.repository, version)
            self.loaded.discard(version)
        self.local.repository.remove(version)

    def promoted(self) -> int | None:
        return self.local.promoted()

    def promote(self, version: int) -> None:
        if self.local.promoted() == version:
            return
        result = self.local.promote(version)
        name = self.local.repository.model_name
        before = f"v{result.previous}" if result.previous is not None else "nothing"
        self.say(f"stable name {name!r}: {before} → v{version} in {result.seconds:.2f}s (zero-downtime swap)")
