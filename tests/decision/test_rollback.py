"""Rollback when the promoted version regresses: breaks a guardrail on a later benchmark."""

from __future__ import annotations

import dataclasses

from frontier.decision import rollback
from frontier.decision.values import Guardrails, Measured, Policy

POLICY = Policy(guardrails=Guardrails(min_macro_f1=0.85, max_p95_ms=200))


def v(n: int, f1: float, p95: float, cost: float = 5.0) -> Measured:
    return Measured(n, f"c{n}", f1, p95 / 1.5, p95, p95 * 1.2, cost)


def test_a_healthy_promoted_version_needs_no_rollback():
    assert rollback.decide([v(1, 0.9, 100), v(2, 0.9, 120)], 2, [1, 2], POLICY) is None


def test_a_regressed_version_rolls_back_to_the_last_good_promoted_one():
    outcome = rollback.decide([v(1, 0.9, 100), v(2, 0.9, 120), v(3, 0.80, 90)], 3, [1, 2, 3], POLICY)
    assert outcome is not None
    assert (outcome.action, outcome.version, outcome.previous_version) == ("rollback", 2, 3)
    assert outcome.reason == "Regressed"
    assert "macro-F1 0.8000 < minMacroF1 0.8500" in outcome.message


def test_without_history_the_best_other_version_takes_over():
    outcome = rollback.decide([v(1, 0.9, 150), v(2, 0.95, 300)], 2, [2], POLICY)
    assert outcome is not None and (outcome.action, outcome.version) == ("rollback", 1)


def test_without_any_fallback_the_regressed_version_keeps_serving_and_says_so():
    outcome = rollback.decide([v(1, 0.5, 150), v(2, 0.95, 300)], 2, [1, 2], POLICY)
    assert outcome is not None
    assert (outcome.action, outcome.version, outcome.reason) == ("keep", 2, "RegressedNoFallback")


def test_rollback_can_be_turned_off_and_pins_are_never_rolled_back():
    regressed = [v(1, 0.9, 100), v(2, 0.5, 100)]
    off = rollback.decide(regressed, 2, [1, 2], dataclasses.replace(POLICY, rollback=False))
    assert off is not None and (off.action, off.version, off.reason) == ("keep", 2, "RollbackDisabled")
    assert rollback.decide(regressed, 2, [1, 2], dataclasses.replace(POLICY, pinned_version=2)) is None
