"""Which version the stable model name serves, and why.

The rule, in order:
1. a pin (``pinnedVersion``) is served as declared, whatever the utility says (a GitOps decision);
   a pin naming no known version is refused and the current version keeps serving;
2. otherwise the *best* version is the one with the highest utility on the Pareto front of the
   eligible versions that pass every guardrail. A benchmark puts an interval around what it measured,
   so each utility is an interval too: versions whose utility intervals overlap the leader's are *tied*
   (the difference could be noise), and a tie goes to the higher macro-F1 — unless the F1 intervals
   overlap as well — then to the simpler version (full precision, then the older); the decision says so;
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
from frontier.decision.values import Measured, Policy, Span


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
    WITHIN_UNCERTAINTY = "WithinUncertainty"
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
    utility_span: Span | None = None


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


def utility_span(version: Measured, policy: Policy) -> Span | None:
    """U at the worst and the best ends of the version's intervals (U rises with F1, falls with cost
    and latency)."""
    (f1_low, f1_high), (cost_low, cost_high) = version.f1_interval(), version.cost_interval()
    lat_low, lat_high = version.latency_interval(policy.percentile)
    if cost_low <= 0:
        return None
    return (
        utility(f1_low, cost_high, lat_high, policy.tau_ms),
        utility(f1_high, cost_low, lat_low, policy.tau_ms),
    )


@dataclass(frozen=True)
class Choice:
    """The best version, and how it won: on ``utility`` alone, or out of a tie (``tied``) on
    ``macro-F1`` or as the ``simpler`` version."""

    winner: Measured
    tied: tuple[Measured, ...] = ()
    by: str = "utility"
    as_good: tuple[Measured, ...] = ()
    """Of the tied, those whose macro-F1 is as good as the best's within its interval."""

    def explain(self, policy: Policy) -> str:
        if not self.tied:
            return ""
        spans = ", ".join(f"v{v.version} U {_span(utility_span(v, policy))}" for v in self.tied)
        how = "the higher macro-F1" if self.by == "macro-F1" else "the simpler version (F1 tied as well)"
        return f"; tied within measurement uncertainty ({spans}): chose {how}"


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
            utility_span=utility_span(v, policy),
        )
        for v in versions
    )


def _rank_key(version: Measured, policy: Policy) -> tuple[float, float, float, float, int]:
    u = utility_of(version, policy) or 0.0
    return (-u, -version.macro_f1, version.latency(policy.percentile), version.cost_per_1m, version.version)


def best(versions: Sequence[Measured], policy: Policy) -> Measured | None:
    chosen = choose(versions, policy)
    return chosen.winner if chosen else None


def choose(versions: Sequence[Measured], policy: Policy) -> Choice | None:
    """The best of the Pareto front of the eligible versions within guardrails, ties resolved.

    The front is taken over the *feasible* versions (constrained optimisation: feasibility first),
    so a version dominated only by one that breaks a guardrail can still win. Since U rises with F1
    and falls with latency and cost, the utility maximum of any set lies on that set's front.
    """
    feasible = [v for v in versions if v.eligible and guardrails.passes(v, policy.guardrails) and utility_of(v, policy)]
    optimal = pareto.front(feasible, policy.percentile)
    leader = min(optimal, key=lambda v: _rank_key(v, policy), default=None)
    if leader is None:
        return None
    floor = _low(utility_span(leader, policy))
    tied = [v for v in optimal if _high(utility_span(v, policy)) >= floor]
    if len(tied) == 1:
        return Choice(leader)
    top = max(tied, key=lambda v: (v.macro_f1, -v.version))
    as_good = [v for v in tied if v.f1_interval()[1] >= top.f1_interval()[0]]
    if len(as_good) == 1:
        return Choice(top, tuple(tied), "macro-F1")
    return Choice(min(as_good, key=lambda v: v.simplicity), tuple(tied), "simpler", tuple(as_good))


def _low(span: Span | None) -> float:
    return span[0] if span else 0.0


def _high(span: Span | None) -> float:
    return span[1] if span else 0.0


def _span(span: Span | None) -> str:
    if span is None:
        return "—"
    return f"{span[0]:.6g}" if span[0] == span[1] else f"[{span[0]:.6g}, {span[1]:.6g}]"


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

    chosen = choose(versions, policy)
    winner = chosen.winner if chosen else None
    if chosen is None or winner is None:
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
        f"within guardrails (τ = {policy.tau_ms:g} ms){chosen.explain(policy)}"
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
    if incumbent in chosen.as_good:  # indistinguishable in utility and in F1: switching gains nothing sure
        return outcome(
            DecisionAction.KEEP,
            promoted,
            DecisionReason.WITHIN_UNCERTAINTY,
            f"v{winner.version} and promoted v{promoted} are tied within measurement uncertainty "
            f"({_span(utility_span(winner, policy))} vs {_span(utility_span(incumbent, policy))}); keeping v{promoted}",
        )
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
