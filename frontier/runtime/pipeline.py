"""``frontier run``'s lifecycle: plan → train → publish → benchmark → decide → promote → report.

Level-triggered like the operator: each pass reads what the work directory already holds (status,
artifacts, benchmark results, the Triton repository) and does only what is missing, so a re-run resumes
and an interrupted run loses at most the step it was in. A changed spec is a new generation: new
versions are planned while the promoted one keeps serving until something beats it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from frontier import artifact as artifacts
from frontier.api.resource import ClassifierModel
from frontier.api.spec import CandidateSpec
from frontier.api.status import Artifact, ClassifierModelStatus, Metrics, ModelVersion
from frontier.decision import lifecycle
from frontier.errors import ArtifactError, FrontierError, ServingError
from frontier.runtime import digests, training
from frontier.runtime.workdir import RunState, Workdir


class Serving(Protocol):
    """What the lifecycle needs from a Triton server (``frontier.runtime.serving_link`` adapts ours)."""

    def publish(self, artifact: Path, precision: str, version: int) -> None: ...

    def benchmark(self, version: int, texts: list[str], labels: list[int], reference: list[int] | None) -> Metrics: ...

    def promote(self, version: int) -> None: ...

    def __enter__(self) -> Serving: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True)
class EvalSet:
    texts: list[str]
    labels: list[int]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Lifecycle:
    def __init__(
        self,
        model: ClassifierModel,
        manifest: Path,
        workdir: Workdir,
        *,
        data_root: Path | None = None,
        say: Callable[[str], None] = print,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.model = model
        self.spec = model.spec
        self.manifest = manifest
        self.workdir = workdir.create()
        self.data_root = data_root
        self.say = say
        self.clock = clock
        self.status = workdir.read_status()
        self.generation = 0

    # ------------------------------------------------------------------------------ plan
    def plan(self) -> None:
        state = self.workdir.read_state()
        digest = digests.spec_digest(self.spec)
        self.generation = state.generation if digest == state.spec_digest else state.generation + 1
        if self.generation != state.generation:
            self.say(f"spec generation {self.generation} (digest {digest[:12]})")
        self.workdir.write_state(RunState(self.generation, digest))
        self.status = lifecycle.plan_versions(self.spec, self.generation, self.status, self.clock())
        self._save()

    def current(self, candidate: str | None = None) -> list[ModelVersion]:
        return [
            v
            for v in self.status.versions
            if v.spec_generation == self.generation and (candidate is None or v.candidate == candidate)
        ]

    # ----------------------------------------------------------------------------- train
    def base_dir(self) -> Path:
        return self.data_root or self.manifest.resolve().parent

    def data_files(self) -> list[Path]:
        sources = [self.spec.dataset.train, self.spec.dataset.eval]
        return [
            self.base_dir() / s.uri.removeprefix("file://")
            for s in sources
            if s is not None and "://" not in s.uri.removeprefix("file://")
        ]

    def train_all(self) -> None:
        for candidate in self.spec.candidates:
            waiting = [v for v in self.current(candidate.name) if v.state in ("Pending", "Training")]
            if waiting:
                self.train(candidate, waiting)

    def train(self, candidate: CandidateSpec, versions: list[ModelVersion]) -> None:
        key = digests.training_digest(self.spec, candidate, self.data_files())
        out = self.workdir.artifacts / f"{candidate.name}-{key[:12]}"
        numbers = [v.version for v in versions]
        try:
            artifacts.verify(out)
            self.say(f"[{candidate.name}] reusing artifact {out.name} (same training inputs)")
        except ArtifactError:
            self.say(f"[{candidate.name}] training → {out}")
            for n in numbers:
                self.status = lifecycle.set_state(self.status, n, "Training")
            self._save()
            command = training.train_command(self.manifest, candidate.name, out, self.data_root)
            log = self.workdir.logs / f"train-{candidate.name}-g{self.generation}.log"
            try:
                training.run_logged(command, log, lambda line: self.say(f"[{candidate.name}] {line}"))
            except FrontierError as error:
                self.say(f"[{candidate.name}] training failed: {error}")
                self.status = lifecycle.record_failure(self.status, numbers, "TrainingFailed", str(error))
                self._save()
                return
        sha = artifacts.sha256_file(out / artifacts.MANIFEST)
        manifest = artifacts.read_manifest(out)
        for v in versions:
            if v.precision not in manifest.precisions:
                self.status = lifecycle.record_failure(
                    self.status, [v.version], "PrecisionMissing", f"the artifact has no {v.precision} model"
                )
                continue
            self.status = lifecycle.set_state(
                self.status, v.version, "Trained", artifact=Artifact(uri=out.resolve().as_uri(), sha256=sha)
            )
        self._save()

    # ------------------------------------------------------------------------- benchmark
    def eval_set(self, seed: int) -> EvalSet:
        from frontier.trainer import data  # no torch: reading and shaping rows only

        prepared = data.prepare(self.spec.dataset, self.spec.labels, self.base_dir(), seed)
        texts, labels = prepared.eval.texts, [int(x) for x in prepared.eval.labels]
        limit = self.spec.benchmark.eval_samples
        return EvalSet(texts[:limit], labels[:limit]) if limit else EvalSet(texts, labels)

    def benchmark_all(self, serving: Serving) -> None:
        todo = [v for v in self.current() if v.state in ("Trained", "Published", "Benchmarking")]
        eval_sets: dict[int, EvalSet] = {}
        for v in todo:
            assert v.artifact is not None
            path = Path(v.artifact.uri.removeprefix("file://"))
            key = digests.benchmark_digest(self.spec, v.artifact.sha256, v.precision)
            metrics = self.workdir.cached_metrics(key)
            label = f"v{v.version} {v.candidate}/{v.precision}"
            try:
                serving.publish(path, v.precision, v.version)
                if metrics is None:
                    self.status = lifecycle.set_state(self.status, v.version, "Benchmarking")
                    self._save()
                    seed = self.spec.candidate(v.candidate).hyperparameters.seed
                    evaluation = eval_sets.setdefault(seed, self.eval_set(seed))
                    self.say(f"[{label}] benchmarking through Triton ({len(evaluation.texts)} eval texts)")
                    metrics = serving.benchmark(
                        v.version, evaluation.texts, evaluation.labels, self._reference(path, v.precision)
                    )
                    self.workdir.cache_metrics(key, metrics)
                else:
                    self.say(f"[{label}] reusing benchmark {key[:12]}")
            except (ServingError, ArtifactError) as error:
                self.say(f"[{label}] failed: {error}")
                self.status = lifecycle.record_failure(self.status, [v.version], "BenchmarkFailed", str(error))
                self._save()
                continue
            self.status = lifecycle.record_metrics(self.spec, self.status, v.version, metrics)
            self.say(
                f"[{label}] macro-F1 {metrics.macro_f1:.4f}  p50 {metrics.p50_ms:.1f} ms  p95 {metrics.p95_ms:.1f} ms"
                f"  {metrics.throughput_rps:.0f} req/s  ${metrics.cost_per_1m:.4f}/1M"
            )
            self._save()

    @staticmethod
    def _reference(artifact: Path, precision: str) -> list[int] | None:
        """The trainer's fp32 predictions on the eval set: what a served variant must agree with."""
        path = artifact / "predictions.json"
        if not path.is_file():
            return None
        predictions = json.loads(path.read_text())
        chosen = predictions.get("fp32") or predictions.get(precision)
        return [int(p) for p in chosen] if chosen else None

    # -------------------------------------------------------------------------- decide
    def decide(self, serving: Serving) -> None:
        before = self.status.promoted.version if self.status.promoted else None
        self.status = lifecycle.apply_decision(self.spec, self.status, self.clock(), self.generation)
        after = self.status.promoted.version if self.status.promoted else None
        if after is not None:
            serving.promote(after)
        decision = self.status.decision
        if decision is not None:
            self.say(f"decision: {decision.action} ({decision.reason}) — {decision.message}")
        if after != before and after is not None:
            self.say(f"stable name {self.model.model_name!r} now serves v{after}")
        self.finish()

    def finish(self) -> None:
        self.status = lifecycle.summarize(self.spec, self.generation, self.status, self.clock())
        self._save()

    def _save(self) -> None:
        self.workdir.write_status(self.status)


def run(
    lifecycle_: Lifecycle, serving_factory: Callable[[], Serving], keep: Callable[[Serving], None]
) -> ClassifierModelStatus:
    """The whole pass; ``keep`` runs with Triton still up (e.g. serve until Ctrl-C)."""
    lifecycle_.plan()
    lifecycle_.train_all()
    if any(v.state in ("Trained", "Published", "Benchmarking", "Ready", "Promoted") for v in lifecycle_.current()) or (
        lifecycle_.status.promoted is not None
    ):
        serving = serving_factory()
        with serving:
            lifecycle_.benchmark_all(serving)
            lifecycle_.decide(serving)
            keep(serving)
    else:
        lifecycle_.finish()
    return lifecycle_.status
