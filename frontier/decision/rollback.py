"""What to serve when the promoted version regresses: it breaks its guardrails on a later benchmark.

The fallback is the most recent previously promoted version that is still eligible and within its
guardrails; failing that, the best version by the promotion rule; failing that, nothing better
exists and the promoted version keeps serving while the resource reports Degraded.
"""

from __future__ import annotations

from collections.abc import Sequence

from frontier.api.status import DecisionAction
from frontier.decision import guardrails, promotion
from frontier.decision.promotion import DecisionReason, Outcome
from frontier.decision.values import Measured, Policy


def decide(versions: Sequence[Measured], promoted: int, history: Sequence[int], policy: Policy) -> Outcome | None:
    """None when the promoted version is healthy; otherwise the rollback (or a Degraded keep)."""
    by_number = {v.version: v for v in versions}
    current = by_number.get(promoted)
    if current is None or policy.pinned_version is not None:
        return None  # not re-measured yet, or pinned: a pin is a person's decision
    broken = guardrails.failures(current, policy.guardrails)
    if not broken:
        return None
    table = promotion.scores(versions, policy)
    regression = f"promoted v{promoted} regressed: {'; '.join(broken)}"
    if not policy.rollback:
        return Outcome(
            DecisionAction.KEEP,
            promoted,
            promoted,
            DecisionReason.ROLLBACK_DISABLED,
            f"{regression}; rollback is off",
            table,
        )

    for number in reversed(history):
        earlier = by_number.get(number)
        if number != promoted and earlier and earlier.eligible and guardrails.passes(earlier, policy.guardrails):
            return Outcome(
                DecisionAction.ROLLBACK,
                number,
                promoted,
                DecisionReason.REGRESSED,
                f"{regression}; rolled back to v{number}",
                table,
            )
    others = [v for v in versions if v.version != promoted]
    fallback = promotion.best(others, policy)
    if fallback is not None:
        return Outcome(
            DecisionAction.ROLLBACK,
            fallback.version,
            promoted,
            DecisionReason.REGRESSED,
            f"{regression}; no earlier version qualifies, switched to best v{fallback.version}",
            table,
        )
    return Outcome(
        DecisionAction.KEEP,
        promoted,
        promoted,
        DecisionReason.REGRESSED_NO_FALLBACK,
        f"{regression}; no other version qualifies",
        table,
    )
