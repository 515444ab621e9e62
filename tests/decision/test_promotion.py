"""Which version the stable name serves: pins, manual policy, guardrails, utility, hysteresis, ties."""

from __future__ import annotations

import dataclasses

import pytest

from frontier.decision import promotion
from frontier.decision.values import Guardrails, Measured, Policy

AUTO = Policy(tau_ms=500.0, min_improvement=0.05)


def v(n: int, f1: float, p50: float, cost: float, *, p95: float | None = None, eligible: bool = True) -> Measured:
    return Measured(n, f"c{n}", f1, p50, p95 if p95 is not None else p50 * 1.5, p50 * 2, cost, eligible=eligible)


def test_first_decision_promotes_the_highest_utility_on_the_front():
    # U = F1/cost·exp(-p50/τ): v2 is cheaper and faster for 1 point of F1 less.
    outcome = promotion.decide([v(1, 0.95, 300, 16.0), v(2, 0.94, 100, 5.3)], None, AUTO)
    assert (outcome.action, outcome.version, outcome.reason) == ("promote", 2, "BestUtility")
    assert "v2" in outcome.message and "highest utility" in outcome.message


def test_a_dominated_version_is_never_promoted_even_with_a_high_utility():
    # Impossible by construction only if U were monotone... it is: a dominated version has lower U.
    outcome = promotion.decide([v(1, 0.9, 100, 5.0), v(2, 0.9, 100, 6.0)], None, AUTO)
    scores = {s.version: s for s in outcome.scores}
    assert scores[1].on_front and not scores[2].on_front
    assert outcome.version == 1


def test_guardrails_exclude_versions_and_are_explained():
    policy = dataclasses.replace(AUTO, guardrails=Guardrails(min_macro_f1=0.9, max_p95_ms=200))
    cheap_but_poor, slow_tail, good = v(1, 0.85, 50, 2.0), v(2, 0.95, 100, 5.0, p95=400), v(3, 0.92, 120, 6.0)
    outcome = promotion.decide([cheap_but_poor, slow_tail, good], None, policy)
    assert outcome.version == 3
    failures = {s.version: s.failures for s in outcome.scores}
    assert failures[1] == ("macro-F1 0.8500 < minMacroF1 0.9000",)
    assert failures[2] == ("p95 400.0 ms > maxP95Ms 200.0",)


def test_nothing_qualifies_keeps_the_current_version_or_refuses():
    policy = dataclasses.replace(AUTO, guardrails=Guardrails(min_macro_f1=0.99))
    assert promotion.decide([v(1, 0.9, 100, 5.0)], None, policy).action == "refuse"
    kept = promotion.decide([v(1, 0.9, 100, 5.0)], 1, policy)
    assert (kept.action, kept.version, kept.reason) == ("keep", 1, "NoQualifyingVersion")


def test_hysteresis_keeps_the_incumbent_unless_the_challenger_is_clearly_better():
    incumbent, slightly_better, much_better = v(1, 0.90, 100, 5.0), v(2, 0.91, 100, 5.0), v(3, 0.90, 100, 4.0)
    kept = promotion.decide([incumbent, slightly_better], 1, AUTO)
    assert (kept.action, kept.version, kept.reason) == ("keep", 1, "BelowMinImprovement")
    switched = promotion.decide([incumbent, much_better], 1, AUTO)
    assert (switched.action, switched.version, switched.previous_version) == ("promote", 3, 1)


def test_an_incumbent_that_breaks_guardrails_is_replaced_without_hysteresis():
    policy = dataclasses.replace(AUTO, guardrails=Guardrails(max_cost_per_1m=5.5), min_improvement=10.0)
    outcome = promotion.decide([v(1, 0.95, 100, 6.0), v(2, 0.90, 100, 5.0)], 1, policy)
    assert (outcome.action, outcome.version, outcome.reason) == ("promote", 2, "IncumbentBreaksGuardrails")


def test_a_pin_is_served_whatever_the_utility_says():
    policy = dataclasses.replace(AUTO, pinned_version=1, guardrails=Guardrails(min_macro_f1=0.95))
    outcome = promotion.decide([v(1, 0.90, 300, 9.0), v(2, 0.96, 50, 2.0)], 2, policy)
    assert (outcome.action, outcome.version, outcome.reason) == ("pin", 1, "Pinned")
    assert "breaks guardrails" in outcome.message


def test_a_pin_to_an_unknown_version_is_refused_and_serving_is_unchanged():
    policy = dataclasses.replace(AUTO, pinned_version=9)
    outcome = promotion.decide([v(1, 0.9, 100, 5.0)], 1, policy)
    assert (outcome.action, outcome.version, outcome.reason) == ("refuse", 1, "PinnedVersionNotFound")
    assert "spec.promotion.pinnedVersion 9" in outcome.message


def test_manual_policy_recommends_without_changing_what_is_served():
    policy = dataclasses.replace(AUTO, mode="manual")
    outcome = promotion.decide([v(1, 0.9, 100, 5.0), v(2, 0.95, 50, 2.0)], 1, policy)
    assert (outcome.action, outcome.version, outcome.reason) == ("recommend", 1, "ManualPolicy")
    assert "pinnedVersion: 2" in outcome.message
    assert not outcome.changes_serving


def test_rejected_versions_never_win():
    outcome = promotion.decide([v(1, 0.9, 100, 5.0), v(2, 0.95, 50, 1.0, eligible=False)], None, AUTO)
    assert outcome.version == 1
    assert not {s.version: s for s in outcome.scores}[2].on_front


def test_exact_ties_go_to_the_lower_version_number_whatever_the_input_order():
    a, b = v(7, 0.9, 100, 5.0), v(3, 0.9, 100, 5.0)
    assert promotion.decide([a, b], None, AUTO).version == 3
    assert promotion.decide([b, a], None, AUTO).version == 3


def test_tau_moves_the_winner_between_fast_and_accurate():
    accurate, fast = v(1, 0.95, 400, 5.0), v(2, 0.85, 50, 5.0)
    assert promotion.decide([accurate, fast], None, dataclasses.replace(AUTO, tau_ms=5000)).version == 1
    assert promotion.decide([accurate, fast], None, dataclasses.replace(AUTO, tau_ms=100)).version == 2


def test_a_refusal_says_what_each_version_failed():
    policy = dataclasses.replace(AUTO, guardrails=Guardrails(min_macro_f1=0.85))
    outcome = promotion.decide([v(1, 0.8417, 8.6, 0.46), v(2, 0.8404, 5.5, 0.29)], None, policy)
    assert (outcome.action, outcome.version) == ("refuse", None)
    assert "v1: macro-F1 0.8417 < minMacroF1 0.8500" in outcome.message
    assert "v2: macro-F1 0.8404 < minMacroF1 0.8500" in outcome.message


def measured_with_noise(n: int, f1: float, p50: float, *, spread: float, f1_spread: float = 0.0,
                        precision: str = "fp32") -> Measured:
    """A version whose benchmark put intervals around its numbers (cost ∝ p50, as under occupancy)."""
    cost = 0.053 * p50
    return Measured(
        n, f"c{n}", f1, p50, p50 * 1.5, p50 * 2, cost, precision=precision,
        macro_f1_span=(f1 - f1_spread, f1 + f1_spread),
        latency_spans={"p50": (p50 - spread, p50 + spread)},
        cost_span=(0.053 * (p50 - spread), 0.053 * (p50 + spread)),
    )


TIES = [
    # (versions, the winner, how it won)
    ("two copies of one model", [measured_with_noise(1, 0.90, 2.47, spread=0.2),
                                 measured_with_noise(2, 0.90, 2.40, spread=0.2)], 1, "simpler"),
    # The case: 7 points of F1 against a latency difference that was never there. v2 is dominated.
    ("noise cannot beat a real F1 gap", [measured_with_noise(1, 0.82, 2.47, spread=0.3, f1_spread=0.01),
                                         measured_with_noise(2, 0.74, 2.40, spread=0.3, f1_spread=0.01)], 1, "utility"),
    # v2 is clearly faster, v1 clearly more accurate; their utilities overlap: F1 decides.
    ("tied utility, clearly better F1",
     [measured_with_noise(1, 0.80, 2.0, spread=0.1, f1_spread=0.005),
      measured_with_noise(2, 0.78, 1.8, spread=0.05, f1_spread=0.005)], 1, "macro-F1"),
    ("a real latency gap", [measured_with_noise(1, 0.90, 10.0, spread=0.2),
                            measured_with_noise(2, 0.90, 4.0, spread=0.2)], 2, "utility"),
    ("int8 tied with fp32", [measured_with_noise(1, 0.90, 2.0, spread=0.3, precision="int8"),
                             measured_with_noise(2, 0.90, 2.1, spread=0.3)], 2, "simpler"),
]


@pytest.mark.parametrize(("case", "versions", "winner", "by"), TIES, ids=[t[0] for t in TIES])
def test_a_difference_measurement_noise_can_explain_is_a_tie_broken_by_f1_then_simplicity(
    case: str, versions: list[Measured], winner: int, by: str
) -> None:
    chosen = promotion.choose(versions, AUTO)
    assert chosen is not None and (chosen.winner.version, chosen.by) == (winner, by)
    outcome = promotion.decide(versions, None, AUTO)
    assert outcome.version == winner
    assert ("tied within measurement uncertainty" in outcome.message) == (by != "utility")


def test_two_copies_of_one_model_stay_on_the_front_side_by_side() -> None:
    copies = [measured_with_noise(1, 0.90, 2.47, spread=0.2), measured_with_noise(2, 0.90, 2.40, spread=0.2)]
    assert all(s.on_front for s in promotion.scores(copies, AUTO))


def test_an_incumbent_tied_with_the_challenger_keeps_serving() -> None:
    # Without the incumbent, the tie would go to the simpler fp32 challenger; switching would gain nothing sure.
    incumbent = measured_with_noise(3, 0.90, 2.1, spread=0.3, precision="int8")
    challenger = measured_with_noise(4, 0.90, 2.0, spread=0.3)
    assert promotion.choose([incumbent, challenger], AUTO).winner.version == 4  # type: ignore[union-attr]
    outcome = promotion.decide([incumbent, challenger], 3, dataclasses.replace(AUTO, min_improvement=0.0))
    assert (outcome.action, outcome.version, outcome.reason) == ("keep", 3, "WithinUncertainty")
