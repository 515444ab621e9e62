"""The work directory of ``frontier run``: where status, artifacts, logs and the Triton repository live.

    <workdir>/status.json            the resource's status, same shape as in the cluster
    <workdir>/artifacts/<cand>-<digest>/   one artifact per distinct training input
    <workdir>/benchmarks/group-<digest>.json   one measurement per generation measured together (its
                                     versions' artifacts, precisions and benchmark settings)
    <workdir>/model-repository/      the Triton model repository
    <workdir>/logs/                  training logs and the Triton log
    <workdir>/report.html, pareto.png

Re-running with the same work directory resumes: steps whose input digests match are reused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from frontier.api.status import ClassifierModelStatus, Metrics
from frontier.files import write_text_atomically


@dataclass(frozen=True)
class Workdir:
    root: Path

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    @property
    def repository(self) -> Path:
        return self.root / "model-repository"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def create(self) -> Workdir:
        for path in (self.root, self.artifacts, self.benchmarks, self.repository, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def read_status(self) -> ClassifierModelStatus:
        if not self.status_file.is_file():
            return ClassifierModelStatus()
        return ClassifierModelStatus.model_validate_json(self.status_file.read_text())

    def write_status(self, status: ClassifierModelStatus) -> None:
        write_text_atomically(self.status_file, json.dumps(status.to_wire(), indent=2) + "\n")

    def cached_group(self, key: str) -> dict[int, Metrics] | None:
        """A generation's measurement (its versions and the promoted one, measured together)."""
        path = self.benchmarks / f"group-{key}.json"
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        return {int(version): Metrics.model_validate(m) for version, m in raw.items()}

    def cache_group(self, key: str, measured: dict[int, Metrics]) -> None:
        text = json.dumps({str(v): m.to_wire() for v, m in sorted(measured.items())}, indent=2)
        write_text_atomically(self.benchmarks / f"group-{key}.json", text + "\n")
