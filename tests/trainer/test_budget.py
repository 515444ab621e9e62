"""Planning a run to its time budget: the arithmetic, and the protocol the loop follows, on a simulated clock."""

from __future__ import annotations

import random

import pytest

from frontier.trainer import budget
from frontier.trainer.budget import BudgetPlan, Pace, Schedule


def test_the_plan_fills_what_is_left_after_the_scorings_still_to_come() -> None:
    # 100 s budget, 3 % kept back, 10 s spent, 5 scorings of 2 s to come: 77 s of 1 s steps after step 5.
    plan = budget.plan(100.0, 10.0, 5, Pace(step_s=1.0, scoring_s=2.0), max_steps=10_000, scorings_done=0)
    assert plan == BudgetPlan(
        total_steps=82, scoring_steps=(21, 36, 52, 67, 82), capped_by_epochs=False, scoring_s=2.0, replan_step=15
    )  # plan again a tenth of the budget (10 steps of 1 s) on


def test_a_plan_made_after_scorings_spreads_the_remaining_ones() -> None:
    plan = budget.plan(100.0, 50.0, 40, Pace(step_s=1.0, scoring_s=2.0), max_steps=10_000, scorings_done=3)
    assert plan.total_steps == 40 + 43 and plan.scoring_steps == (62, 83)


@pytest.mark.parametrize(
    ("scoring_s", "scorings", "total"), [(2.0, 5, 231), (30.0, 4, 187), (111.5, 1, 191), (900.0, 1, 5)]
)
def test_dear_scorings_are_fewer_so_they_take_at_most_a_fifth_of_the_budget(
    scoring_s: float, scorings: int, total: int
) -> None:
    # Long texts and many eval rows make a scoring dear (IMDB: 111 s of a 600 s budget): training comes first.
    plan = budget.plan(600.0, 5.0, 5, Pace(step_s=2.5, scoring_s=scoring_s), max_steps=10**6, scorings_done=0)
    assert (len(plan.scoring_steps), plan.total_steps) == (scorings, total)


def test_the_epochs_cap_the_plan_when_the_budget_would_allow_more() -> None:
    plan = budget.plan(600.0, 5.0, 5, Pace(step_s=0.1, scoring_s=1.0), max_steps=300, scorings_done=0)
    assert plan.total_steps == 300 and plan.capped_by_epochs


@pytest.mark.parametrize("elapsed", [97.0, 100.0, 250.0], ids=["within-the-margin", "spent", "overrun"])
def test_with_nothing_left_training_stops_now_and_only_the_last_scoring_runs(elapsed: float) -> None:
    plan = budget.plan(100.0, elapsed, 40, Pace(step_s=1.0, scoring_s=2.0), max_steps=10_000, scorings_done=2)
    assert plan.total_steps == 40 and plan.scoring_steps == (40,)


def test_the_schedule_warms_up_then_decays_to_zero_at_the_planned_end() -> None:
    schedule = Schedule(total_steps=10, warmup_ratio=0.2)
    assert [schedule(s) for s in range(11)] == pytest.approx(
        [0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0.0]
    )
    schedule.replan(20)  # a re-plan moves the end (and the warm-up with it)
    assert (schedule.warmup_steps, schedule(20), schedule(10)) == (4, 0.0, pytest.approx(10 / 16))


@pytest.mark.parametrize(
    ("step_s", "scoring_s", "jitter"),
    [(0.5, 3.0, 0.0), (0.5, 3.0, 0.3), (2.0, 20.0, 0.2), (0.05, 1.0, 0.5)],
    ids=["steady", "noisy-steps", "slow-steps-slow-scoring", "fast-steps-very-noisy"],
)
def test_a_simulated_run_that_follows_the_plans_ends_inside_the_budget_using_nearly_all_of_it(
    step_s: float, scoring_s: float, jitter: float
) -> None:
    """The loop's protocol on an injected clock: plan after the probe steps, score at the planned steps and
    plan again, plan again every tenth of the budget, stop at the planned end, then the last scoring. Half-way
    through, steps get 1.5× slower (a neighbour): the re-plans absorb it."""
    rng, budget_s = random.Random(7), 600.0
    clock, step, scorings, scoring_time = 0.0, 0, 0, 0.0
    plan: BudgetPlan | None = None

    def pace_now() -> Pace:
        measured = (clock - scoring_time) / step
        # before the first scoring: a sample's extrapolation, here 40 % off
        return Pace(measured, scoring_time / scorings) if scorings else Pace(measured, scoring_s * 1.4)

    while plan is None or step < plan.total_steps:
        slowdown = 1.5 if clock > budget_s / 2 else 1.0  # a neighbour arrives half-way through
        clock += step_s * slowdown * (1 + rng.uniform(-jitter, jitter))
        step += 1
        if plan is not None and step < plan.total_steps and plan.scoring_due(step):
            took = scoring_s * (1 + rng.uniform(-jitter, jitter))
            clock, scoring_time, scorings = clock + took, scoring_time + took, scorings + 1
        elif step >= budget.PROBE_STEPS and (plan is None or step >= plan.replan_step):
            pass
        else:
            continue
        plan = budget.plan(budget_s, clock, step, pace_now(), max_steps=10**9, scorings_done=scorings)
    clock += scoring_s  # the last scoring
    assert 0.9 * budget_s <= clock <= budget_s
    assert 2 <= scorings + 1 <= budget.SCORINGS and scoring_time + scoring_s <= budget.SCORING_SHARE * budget_s * 1.5


# The order a budgeted run meets the rows in -------------------------------------------------------------------


def test_every_prefix_of_an_epoch_is_a_stratified_sample_of_all_the_rows() -> None:
    np = pytest.importorskip("numpy")
    from frontier.trainer.batching import length_grouped_batches

    labels = np.array([0] * 600 + [1] * 300 + [2] * 100, dtype=np.int64)  # 60 / 30 / 10 %
    lengths = np.random.default_rng(1).integers(3, 60, size=len(labels))
    batches = length_grouped_batches(lengths, 10, seed=3, epoch=0, labels=labels)
    assert sorted(r for b in batches for r in b) == list(range(1000))  # an epoch is every row once
    for mega_batches in (1, 2, 10):  # a run that stops after 50, 100, … batches (one length-grouped window each)
        seen = np.array([r for b in batches[: 50 * mega_batches] for r in b])
        shares = np.bincount(labels[seen], minlength=3) / len(seen)
        assert shares == pytest.approx([0.6, 0.3, 0.1], abs=0.005)
    other_epoch = length_grouped_batches(lengths, 10, seed=3, epoch=1, labels=labels)
    assert other_epoch != batches and other_epoch == length_grouped_batches(lengths, 10, 3, 1, labels=labels)
