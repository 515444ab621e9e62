"""``frontier run``'s lifecycle: the operator's reconcile loop with a local executor.

The lifecycle is ``frontier.decision.planner``, the same function the operator runs. Here each pass
*observes* the work directory (artifacts keyed by their training inputs, benchmark results keyed by
theirs, what the Triton repository promotes), *plans*, and *acts*: a training is a ``frontier train``
subprocess, a benchmark is a measurement through the embedded Triton, a promotion is the zero-error
swap. Actions finish before the next pass observes, so the loop ends when a plan has no action left.
Re-running resumes: what the work directory already holds is observed, not done again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from frontier import artifact as artifacts
from frontier.api.names import version_model
from frontier.api.resource import ClassifierModel
from frontier.api.spec import CandidateSpec, DataSource
from frontier.api.status import Artifact, ClassifierModelStatus, Metrics, ModelVersion, VersionState
from frontier.data.evaluation import EvalRows, benchmark_rows, rows_for_test
from frontier.decision import generations, planner
from frontier.decision.states import AWAITING_BENCHMARK, IN_TRAINING, Reason
from frontier.decision.work import (
    BaselineMeasured,
    Benchmark,
    BenchmarkKey,
    Cancel,
    Failed,
    MeasureBaseline,
    Measured,
    Observed,
    Promote,
    Served,
    Train,
    Trained,
    TrainingKey,
    Unload,
    WorkKey,
    World,
    carry_out,
)
from frontier.errors import ArtifactError, DataError, FrontierError, ServingError
from frontier.runtime import digests, training
from frontier.runtime.workdir import Workdir
from frontier.serving import rounds

MAX_PASSES = 50  # each pass finishes its actions; a lifecycle settles in a handful


class Serving(Protocol):
    """What the lifecycle needs from a Triton server (``frontier.runtime.serving_link`` adapts ours)."""

    def publish(self, artifact: Path, precision: str, version: int) -> None: ...

    def measure(self, contenders: list[rounds.Contender]) -> dict[int, Metrics]: ...

    def promote(self, version: int) -> None: ...

    def promoted(self) -> int | None: ...

    def discard(self, version: int) -> None: ...

    def __enter__(self) -> Serving: ...

    def __exit__(self, *exc: object) -> None: ...


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalExecutor:
    """Observe and act on this machine: the work directory, ``frontier train`` processes, one Triton."""

    def __init__(
        self,
        model: ClassifierModel,
        manifest: Path,
        workdir: Workdir,
        serving_factory: Callable[[], Serving],
        *,
        data_root: Path | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        self.model, self.spec, self.manifest = model, model.spec, manifest
        self.workdir, self.data_root, self.say = workdir, data_root, say
        self.serving_factory = serving_factory
        self.serving: Serving | None = None
        self.failures: dict[WorkKey, Failed] = {}
        self.measured: dict[WorkKey, Measured | BaselineMeasured] = {}
        self.eval_rows: dict[int, EvalRows] = {}
        self.tested: tuple[EvalRows | None] | None = None

    # ------------------------------------------------------------------------------ observe
    def observe(self, status: ClassifierModelStatus, generation: int) -> World:
        work: dict[WorkKey, Observed] = dict(self.failures)
        for candidate in self._awaiting_training(status, generation):
            key = TrainingKey(candidate.name, generation)
            if key not in work and (trained := self._artifact(candidate)) is not None:
                work[key] = trained
        work.update(self.measured)
        for g in {v.spec_generation for v in status.versions if v.state in AWAITING_BENCHMARK}:
            bench = BenchmarkKey(g)
            group = [v for v in status.versions if v.spec_generation == g and v.state != VersionState.FAILED]
            if bench in work or not all(v.state in AWAITING_BENCHMARK for v in group):
                continue  # a generation is measured as a whole, once all of it is trained
            cached = self.workdir.cached_group(self._group_digest(group))
            if cached is not None:  # a re-run: this generation was measured already, together
                self.say(f"generation {g}: reusing its benchmark (same artifacts and settings)")
                work[bench] = Measured(cached)
        return World(work=work, served=Served(version=self._served()))

    def _group_digest(self, versions: list[ModelVersion]) -> str:
        return digests.group_digest(
            [self._benchmark_digest(v.artifact, v.precision) for v in versions if v.artifact is not None]
        )

    def _awaiting_training(self, status: ClassifierModelStatus, generation: int) -> list[CandidateSpec]:
        settled = {
            v.candidate for v in status.versions if v.spec_generation == generation and v.state not in IN_TRAINING
        }
        return [c for c in self.spec.candidates if c.name not in settled]

    def _served(self) -> int | None:
        """What the stable name serves: nothing while this run has not started Triton (the planner then
        asks for the promotion again, so every run ends with the promoted version served)."""
        return self.serving.promoted() if self.serving is not None else None

    # ---------------------------------------------------------------------------------- act
    # Cancel: nothing runs here in the background (every action finished before the next pass).
    def cancel(self, action: Cancel) -> None:
        pass

    # Unload: never planned here (observe reports no loaded versions): this run's Triton, and what it
    # loaded, ends with the run.
    def unload(self, action: Unload) -> None:
        pass

    def measure_baseline(self, action: MeasureBaseline) -> None:
        """Measure an ``llm`` baseline in-process, through its endpoint."""
        from frontier.baselines import measurement
        from frontier.baselines.llm import BaselineError

        baseline = next(b for b in self.spec.baselines if b.name == action.key.name)
        assert baseline.llm is not None
        self.say(f"[{baseline.name}] asking {baseline.llm.model} at {baseline.llm.endpoint}")
        try:
            self.measured[action.key] = measurement.measure(self.spec, baseline, self.base_dir())
        except measurement.CredentialsMissing as error:
            self.failures[action.key] = Failed(Reason.CREDENTIALS_MISSING, str(error))
        except (BaselineError, DataError) as error:
            self.failures[action.key] = Failed(Reason.BASELINE_FAILED, str(error))

    def base_dir(self) -> Path:
        return self.data_root or self.manifest.resolve().parent

    def data_files(self) -> list[Path]:
        """The local files training reads (their size and time join the training digest)."""
        return self._local_files([self.spec.dataset.train, self.spec.dataset.eval])

    def _local_files(self, sources: list[DataSource | None]) -> list[Path]:
        return [
            self.base_dir() / s.uri.removeprefix("file://")
            for s in sources
            if s is not None and "://" not in s.uri.removeprefix("file://")
        ]

    def artifact_dir(self, candidate: CandidateSpec) -> Path:
        key = digests.training_digest(self.spec, candidate, self.data_files())
        return self.workdir.artifacts / f"{candidate.name}-{key[:12]}"

    def _artifact(self, candidate: CandidateSpec) -> Trained | None:
        out = self.artifact_dir(candidate)
        try:
            manifest = artifacts.verify(out)
        except ArtifactError:
            return None
        sha = artifacts.sha256_file(out / artifacts.MANIFEST)
        return Trained(Artifact(uri=out.resolve().as_uri(), sha256=sha), frozenset(manifest.precisions))

    def train(self, action: Train) -> None:
        candidate = self.spec.candidate(action.key.candidate)
        out = self.artifact_dir(candidate)
        if self._artifact(candidate) is not None:
            self.say(f"[{candidate.name}] reusing artifact {out.name} (same training inputs)")
            return
        self.say(f"[{candidate.name}] training → {out}")
        command = training.train_command(self.manifest, candidate.name, out, self.data_root)
        log = self.workdir.logs / f"train-{candidate.name}-g{action.key.generation}.log"
        try:
            training.run_logged(command, log, lambda line: self.say(f"[{candidate.name}] {line}"))
        except FrontierError as error:
            self.say(f"[{candidate.name}] training failed: {error}")
            self.failures[action.key] = Failed(Reason.TRAINING_FAILED, str(error))
            return
        if self._artifact(candidate) is None:
            self.failures[action.key] = Failed(Reason.TRAINING_FAILED, f"{out}: no complete artifact after training")

    def benchmark(self, action: Benchmark) -> None:
        """Publish every contender and measure them together through this run's Triton."""
        together = ", ".join(f"v{c.version} {c.candidate}/{c.precision}" for c in action.contenders)
        try:
            serving = self.start_serving()
            for version in action.discard:  # never to serve again: out of the repository
                serving.discard(version)
            contenders = []
            for c in action.contenders:
                path = Path(c.artifact.uri.removeprefix("file://"))
                serving.publish(path, c.precision, c.version)
                rows = self.rows(self.spec.candidate(c.candidate).hyperparameters.seed)
                reference = artifacts.reference_predictions(path, c.precision, len(rows.texts))
                model = version_model(self.model.model_name, c.version)
                test = self.test_rows()
                tested: tuple[list[str], list[int]] = (test.texts, test.labels) if test else ([], [])
                contenders.append(rounds.Contender(c.version, model, rows.texts, rows.labels, reference, *tested))
            self.say(f"benchmarking through Triton, together in interleaved rounds: {together}")
            measured = serving.measure(contenders)
        except (ServingError, ArtifactError) as error:
            self.say(f"benchmark of {together} failed: {error}")
            self.failures[action.key] = Failed(Reason.BENCHMARK_FAILED, str(error))
            return
        ours = [c for c in action.contenders if c.version != action.incumbent]
        key = digests.group_digest([self._benchmark_digest(c.artifact, c.precision) for c in ours])
        self.workdir.cache_group(key, measured)
        self.measured[action.key] = Measured(measured)

    def promote(self, action: Promote) -> None:
        """Serve the version under the stable name; published first when this repository lacks it (its
        measurement came from the work directory, or the stable name changed)."""
        serving = self.start_serving()
        if action.contender is not None:
            c = action.contender
            serving.publish(Path(c.artifact.uri.removeprefix("file://")), c.precision, c.version)
        serving.promote(action.version)

    def rows(self, seed: int) -> EvalRows:
        if seed not in self.eval_rows:
            self.eval_rows[seed] = benchmark_rows(self.spec, seed, self.base_dir())
        return self.eval_rows[seed]

    def test_rows(self) -> EvalRows | None:
        """``dataset.test``, read once per run; None without one."""
        if self.tested is None:
            self.tested = (rows_for_test(self.spec, self.base_dir()),)
        return self.tested[0]

    def _benchmark_digest(self, artifact: Artifact, precision: str) -> str:
        return digests.benchmark_digest(
            self.spec, artifact.sha256, precision, self._local_files([self.spec.dataset.test])
        )

    def start_serving(self) -> Serving:
        if self.serving is None:
            serving = self.serving_factory()
            serving.__enter__()
            self.serving = serving
        return self.serving

    def stop_serving(self) -> None:
        if self.serving is not None:
            serving, self.serving = self.serving, None
            serving.__exit__(None, None, None)


class Lifecycle:
    """The reconcile loop of one manifest over one work directory."""

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
        self.model, self.spec, self.manifest = model, model.spec, manifest
        self.workdir = workdir.create()
        self.data_root, self.say, self.clock = data_root, say, clock
        self.status = workdir.read_status()

    def reconcile(self, executor: LocalExecutor) -> ClassifierModelStatus:
        """Observe, plan, act until nothing is left to do; the status is saved after every pass."""
        for _ in range(MAX_PASSES):
            generation, _digest = generations.generation_of(self.spec, self.status)
            world = executor.observe(self.status, generation)
            plan = planner.plan(self.spec, self.status, world, self.clock(), self.model.model_name)
            if plan.generation != generations.current_generation(self.status):
                self.say(f"spec generation {plan.generation} (digest {_digest[:12]})")
            self.status = plan.status
            self.workdir.write_status(self.status)
            for event in plan.events:
                self.say(f"{event.reason}: {event.message}")
            if not plan.actions:
                self._report()
                return self.status
            carry_out(plan.actions, executor)
        raise FrontierError(f"the lifecycle did not settle in {MAX_PASSES} passes; status {self.workdir.status_file}")

    def _report(self) -> None:
        decision = self.status.decision
        if decision is not None:
            self.say(f"decision: {decision.action} ({decision.reason}) — {decision.message}")


def run(lifecycle: Lifecycle, executor: LocalExecutor, keep: Callable[[Serving], None]) -> ClassifierModelStatus:
    """The whole lifecycle; ``keep`` runs with Triton still up, serving the promoted version."""
    try:
        status = lifecycle.reconcile(executor)
        if status.promoted is not None:
            keep(executor.start_serving())
    finally:
        executor.stop_serving()
    return status


__all__ = ["Lifecycle", "LocalExecutor", "Serving", "VersionState", "run"]
