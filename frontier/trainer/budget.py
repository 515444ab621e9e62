"""Planning a fine-tuning run to fill a time budget (``hyperparameters.timeBudget``). Pure arithmetic.

The budget is the loop's wall time, from the first optimizer step to the end of the last checkpoint
scoring (export and quantization follow it and are not counted). A run cannot know its own speed
beforehand, so it measures it: after ``PROBE_STEPS`` steps ``plan`` turns the seconds per step and per
scoring into the number of optimizer steps that fill what is left of the budget, keeping room for the
scorings still to come; it plans again after every scoring and every ``REPLAN_EVERY`` of the budget, as the
estimate sharpens. The learning-rate
schedule (``Schedule``: linear warm-up, then linear decay) is defined over the planned steps, so it
reaches zero when the budget ends, and checkpoints are scored ``scorings`` times, evenly spread, the last
one at the last step — fewer times when scoring would take more than ``SCORING_SHARE`` of the budget. A run
that would finish its ``epochs`` before the budget ends is planned to them.

Before the first scoring its cost is measured on a sample: the loop times a forward pass over a few eval rows
and extrapolates to the rows a scoring reads (a guess from the training pace was off by 1.3–2× either way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PROBE_STEPS = 5
"""Steps run before the first plan (the first is slow: allocation, warm caches)."""
SCORINGS = 5
"""Checkpoint scorings spread over a budgeted run when ``evalSteps`` does not say."""
REPLAN_EVERY = 0.1
"""Share of the budget after which the run plans again even without a scoring (the pace may change: a
neighbour, longer texts), so a run with a single, final scoring still ends on time."""
SCORING_SHARE = 0.2
"""The most of the budget scorings may take: fewer of them when each is dear (long texts, many eval rows)."""
MARGIN = 0.03
"""Share of the budget left unplanned, for the variation of a step's time."""


@dataclass(frozen=True)
class Pace:
    """How fast this run goes, as measured so far."""

    step_s: float
    """Seconds per optimizer step (scoring left out)."""
    scoring_s: float
    """Seconds per checkpoint scoring (measured; before the first, extrapolated from a sample)."""


@dataclass(frozen=True)
class BudgetPlan:
    total_steps: int
    """The step the schedule ends at and training stops after."""
    scoring_steps: tuple[int, ...]
    """The steps after which checkpoints are scored (the last is ``total_steps``)."""
    capped_by_epochs: bool
    """The budget would allow more steps than ``epochs`` passes over the data."""
    scoring_s: float = 0.0
    """What one scoring is expected to take: the last one must still fit when the budget runs short."""
    replan_step: int = 0
    """The step to plan again at, about ``REPLAN_EVERY`` of the budget on: a step, not a time, so every rank of
    a distributed run plans again at the same step."""

    def scoring_due(self, step: int) -> bool:
        return step in self.scoring_steps

    def describe(self, budget_s: float, pace: Pace) -> str:
        why = "its epochs end first" if self.capped_by_epochs else f"fills the {budget_s:.0f}s budget"
        return (
            f"planned {self.total_steps} steps ({pace.step_s:.3f}s each) and {len(self.scoring_steps)} more "
            f"scorings ({pace.scoring_s:.1f}s each): {why}"
        )


def plan(
    budget_s: float,
    elapsed_s: float,
    step: int,
    pace: Pace,
    *,
    max_steps: int,
    scorings_done: int,
    scorings: int = SCORINGS,
) -> BudgetPlan:
    """The steps that fill the rest of the budget after ``step`` (``elapsed_s`` spent, ``scorings_done``
    scorings made of ``scorings``), at ``pace``; at most ``max_steps``. With nothing left, ``step`` itself:
    training stops now and the last scoring runs."""
    if pace.scoring_s > 0:  # as many as the scoring share affords, at least the last one
        scorings = min(scorings, max(scorings_done + 1, math.floor(SCORING_SHARE * budget_s / pace.scoring_s)))
    scorings_left = max(1, scorings - scorings_done)
    left = budget_s * (1.0 - MARGIN) - elapsed_s - scorings_left * pace.scoring_s
    more = math.floor(left / pace.step_s) if left > 0 and pace.step_s > 0 else 0
    total = min(max_steps, step + more)
    replan = step + max(1, math.floor(REPLAN_EVERY * budget_s / pace.step_s)) if pace.step_s > 0 else total
    return BudgetPlan(total, _spread(step, total, scorings_left), step + more > max_steps, pace.scoring_s, replan)


def _spread(step: int, total: int, count: int) -> tuple[int, ...]:
    """``count`` scoring steps evenly spread over (step, total], the last one at ``total``."""
    span = total - step
    if span <= 0:
        return (total,)
    points = {step + math.ceil(span * (i + 1) / count) for i in range(count)}
    return tuple(sorted(points | {total}))


class Schedule:
    """The learning-rate factor: linear warm-up over ``warmup_ratio`` of the steps, then linear decay to zero
    at ``total_steps``. An object rather than a closure: a budgeted run moves its end as it plans again, and
    ``LambdaLR`` saves an object's attributes in its state, so a resumed run keeps the plan."""

    def __init__(self, total_steps: int, warmup_ratio: float) -> None:
        self.warmup_ratio = warmup_ratio
        self.total_steps = total_steps
        self.warmup_steps = math.ceil(warmup_ratio * total_steps)

    def replan(self, total_steps: int) -> None:
        self.total_steps = total_steps
        self.warmup_steps = math.ceil(self.warmup_ratio * total_steps)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps))
