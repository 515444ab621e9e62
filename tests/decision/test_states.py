"""Version states move only along the lifecycle's table."""

from __future__ import annotations

import pytest

from frontier.api.status import ModelVersion, VersionState
from frontier.decision import states

S = VersionState
LEGAL = [
    (S.PENDING, S.TRAINING),
    (S.TRAINING, S.TRAINED),
    (S.TRAINED, S.BENCHMARKING),
    (S.TRAINED, S.READY),  # a benchmark already measured
    (S.BENCHMARKING, S.READY),
    (S.BENCHMARKING, S.REJECTED),
    (S.READY, S.PROMOTED),
    (S.PROMOTED, S.READY),
    (S.FAILED, S.RETIRED),
    (S.READY, S.READY),
]
ILLEGAL = [
    (S.FAILED, S.READY),
    (S.RETIRED, S.PROMOTED),
    (S.REJECTED, S.PROMOTED),
    (S.PENDING, S.READY),
    (S.READY, S.TRAINING),
]


def version(state: VersionState) -> ModelVersion:
    return ModelVersion(version=1, candidate="c", spec_generation=1, state=state)


@pytest.mark.parametrize(("before", "after"), LEGAL)
def test_a_legal_move_happens(before: VersionState, after: VersionState) -> None:
    assert states.move(version(before), after).state == after


@pytest.mark.parametrize(("before", "after"), ILLEGAL)
def test_an_illegal_move_is_refused_naming_both_states(before: VersionState, after: VersionState) -> None:
    with pytest.raises(states.IllegalTransition, match=f"{before} → {after}"):
        states.move(version(before), after)


def test_every_state_has_a_row_and_only_retired_is_terminal() -> None:
    assert set(states.TRANSITIONS) == set(VersionState)
    assert [s for s, to in states.TRANSITIONS.items() if not to] == [S.RETIRED]
