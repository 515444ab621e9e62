"""Which version the stable model name serves, and why.

The rule, in order:
1. a pin (``pinnedVersion``) is served as declared, whatever the utility says (a GitOps decision);
   a pin naming no known version is refused and the current version keeps serving;
2. otherwise the *best* version is the one with the highest utility on the Pareto front of the
   eligible versions that pass every guardrail; ties go to higher F1, then lower latency, lower cost, lower version;
3. ``policy: manual`` only recommends the best version;
4. ``policy: auto`` promotes it, unless the promoted version still passes its guardrails and the best
   does not beat its utility by ``minImprovement`` (relative): hysteresis, so promotion does not flap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from frontier.api.status import DecisionAction
from frontier.decision import guardrails, pareto
from frontier.decision.utility import utility
from frontier.decision.values import Measured, Policy


class DecisionReason(StrEnum):
    """``status.decision.reason``: why the stable name serves what it serves."""

    PINNED = "Pinned"
    PINNED_VERSION_NOT_FOUND = "PinnedVersionNotFound"
    NO_QUALIFYING_VERSION = "NoQualifyingVersion"
    MANUAL_POLICY = "ManualPolicy"
    BEST_UTILITY = "BestUtility"
    ALREADY_PROMOTED = "AlreadyPromoted"
    INCUMBENT_BREAKS_GUARDRAILS = "IncumbentBreaksGuardrails"
    BELOW_MIN_IMPROVEMENT = "BelowMinImprovement"
    REGRESSED = "Regressed"
    REGRESSED_NO_FALLBACK = "RegressedNoFallback"
    ROLLBACK_DISABLED = "RollbackDisabled"

    @property
    def degrades(self) -> bool:
        """The promoted version broke its guardrails and nothing replaced it."""
        return self in (DecisionReason.REGRESSED_NO_FALLBACK, DecisionReason.ROLLBACK_DISABLED)


@dataclass(frozen=True)
class Score:
    """One version as the decision saw it."""

    version: int
    utility: float | None
    on_front: bool
    failures: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What to serve and the explanation that goes into ``status.decision``."""

    action: DecisionAction
    version: int | None
    previous_version: int | None
    reason: DecisionReason
    message: str
    scores: tuple[Score, ...] = field(default_factory=tuple)

    @property
    def changes_serving(self) -> bool:
        return self.version is not None and self.version != self.previous_version


def utility_of(version: Measured, policy: Policy) -> float | None:
    if version.cost_per_1m <= 0:
        return None
    return utility(version.macro_f1, version.cost_per_1m, version.latency(policy.percentile), policy.tau_ms)


def scores(versions: Sequence[Measured], policy: Policy) -> tuple[Score, ...]:
    eligible = [v for v in versions if v.eligible]
    on_front = {v.version for v in pareto.front(eligible, policy.percentile)}
    return tuple(
        Score(
            version=v.version,
            utility=utility_of(v, policy),
            on_front=v.version in on_front,
            failures=tuple(guardrails.failures(v, policy.guardrails)),
            note=v.note if not v.eligible else None,
        )
        for v in versions
    )


def _rank_key(version: Measured, policy: Policy) -> tuple[float, float, float, float, int]:
    u = utility_of(version, policy) or 0.0
    return (-u, -version.macro_f1, version.latency(policy.percentile), version.cost_per_1m, version.version)


def best(versions: Sequence[Measured], policy: Policy) -> Measured | None:
    """The highest-utility version of the Pareto front of the eligible versions within guardrails.

    The front is taken over the *feasible* versions (constrained optimisation: feasibility first),
    so a version dominated only by one that breaks a guardrail can still win. Since U rises with F1
    and falls with latency and cost, the utility maximum of any set lies on that set's front.
    """
    feasible = [v for v in versions if v.eligible and guardrails.passes(v, policy.guardrails) and utility_of(v, policy)]
    optimal = pareto.front(feasible, policy.percentile)
    return min(optimal, key=lambda v: _rank_key(v, policy), default=None)


def _describe(version: Measured, policy: Policy) -> str:
    u = utility_of(version, policy)
    return (
        f"{version.label}: macro-F1 {version.macro_f1:.4f}, {policy.percentile} "
        f"{version.latency(policy.percentile):.1f} ms, ${version.cost_per_1m:.4f}/1M, U {u:.6g}"
    )


def decide(versions: Sequence[Measured], promoted: int | None, policy: Policy) -> Outcome:
    """The promotion decision over measured versions, given the version served now (if any)."""
    table = scores(versions, policy)
    by_number = {v.version: v for v in versions}

    def outcome(action: DecisionAction, version: int | None, reason: DecisionReason, message: str) -> Outcome:
        return Outcome(action, version, promoted, reason, message, table)

    if policy.pinned_version is not None:
        pinned = by_number.get(policy.pinned_version)
        if pinned is None:
            return outcome(
                DecisionAction.REFUSE,
                promoted,
                DecisionReason.PINNED_VERSION_NOT_FOUND,
                f"spec.promotion.pinnedVersion {policy.pinned_version} is not a measured version; "
                f"keeping {'v' + str(promoted) if promoted else 'nothing'} served",
            )
        broken = guardrails.failures(pinned, policy.guardrails)
        warning = f" (it breaks guardrails: {'; '.join(broken)})" if broken else ""
        return outcome(
            DecisionAction.PIN,
            pinned.version,
            DecisionReason.PINNED,
            f"serving pinned {_describe(pinned, policy)}{warning}",
        )

    winner = best(versions, policy)
    if winner is None:
        why_not = "; ".join(
            f"v{s.version}: " + ("; ".join(s.failures) if s.failures else (s.note or "no utility")) for s in table
        )
        return outcome(
            DecisionAction.KEEP if promoted else DecisionAction.REFUSE,
            promoted,
            DecisionReason.NO_QUALIFYING_VERSION,
            f"none of {len(versions)} measured version(s) is eligible and within guardrails ({why_not})"
            + (f"; keeping v{promoted}" if promoted else ""),
        )

    feasible = [v for v in versions if v.eligible and guardrails.passes(v, policy.guardrails)]
    front_size = len(pareto.front(feasible, policy.percentile))
    why = (
        f"{_describe(winner, policy)} has the highest utility of the {front_size} Pareto-optimal version(s) "
        f"within guardrails (τ = {policy.tau_ms:g} ms)"
    )
    if policy.mode == "manual":
        return outcome(
            DecisionAction.RECOMMEND,
            promoted,
            DecisionReason.MANUAL_POLICY,
            f"recommending v{winner.version}: {why}; set spec.promotion.pinnedVersion: {winner.version} to promote",
        )
    if promoted is None:
        return outcome(DecisionAction.PROMOTE, winner.version, DecisionReason.BEST_UTILITY, why)
    if promoted == winner.version:
        return outcome(DecisionAction.KEEP, promoted, DecisionReason.ALREADY_PROMOTED, why)

    incumbent = by_number.get(promoted)
    if incumbent is None or not incumbent.eligible:
        return outcome(
            DecisionAction.PROMOTE,
            winner.version,
            DecisionReason.BEST_UTILITY,
            f"{why}; v{promoted} is no longer measured",
        )
    broken = guardrails.failures(incumbent, policy.guardrails)
    if broken:
        return outcome(
            DecisionAction.PROMOTE,
            winner.version,
            DecisionReason.INCUMBENT_BREAKS_GUARDRAILS,
            f"{why}; v{promoted} breaks {'; '.join(broken)}",
        )
    u_best, u_now = utility_of(winner, policy) or 0.0, utility_of(incumbent, policy) or 0.0
    if u_best < u_now * (1.0 + policy.min_improvement):
        return outcome(
            DecisionAction.KEEP,
            promoted,
            DecisionReason.BELOW_MIN_IMPROVEMENT,
            f"v{winner.version} (U {u_best:.6g}) does not beat promoted v{promoted} (U {u_now:.6g}) by "
            f"minImprovement {policy.min_improvement:.0%}",
        )
    return outcome(
        DecisionAction.PROMOTE,
        winner.version,
        DecisionReason.BEST_UTILITY,
        f"{why}; beats v{promoted} (U {u_now:.6g}) by {u_best / u_now - 1:.1%}",
    )
