"""Peered replicas get distinct kopf priorities: kopf pauses every peer that shares its priority, and
the replicas of one Deployment all run the same command line."""

from __future__ import annotations

from frontier.operator import entry
from frontier.operator.settings import OperatorSettings, from_environment


def test_standalone_operators_leave_the_priority_to_kopf():
    assert entry.peering_priority(OperatorSettings()) is None


def test_peered_replicas_draw_distinct_priorities():
    settings = OperatorSettings(peering="frontier")
    drawn = {entry.peering_priority(settings) for _ in range(20)}
    assert len(drawn) == 20 and all(p is not None and p > 0 for p in drawn)


def test_an_explicit_priority_wins_from_the_flag_or_the_environment():
    assert entry.peering_priority(OperatorSettings(peering="frontier", priority=7)) == 7
    assert from_environment({"FRONTIER_OPERATOR_PRIORITY": "9"}).priority == 9
    assert from_environment({}).priority is None
