"""Baselines on the versions' front: priced from their declared figures, compared in the decision, never served."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from frontier.api.status import ClassifierModelStatus, LlmMeasurement
from frontier.decision import planner
from frontier.decision.work import BaselineMeasured, Failed, MeasureBaseline, World

from ..api.test_spec_validation import errors_of
from ..conftest import MINIMAL
from .test_planner import NOW, metrics, settle, spec_of

PAPER = json.loads((Path(__file__).parents[1] / "fixtures" / "paper-2602.06370.json").read_text())
GPT4O = PAPER["llm_pricing_usd_per_1M_tokens"]["gpt-4o"]
IMDB_TOKENS = PAPER["figures"]["llm_tokens"]["imdb gpt-4o"]


def gpt4o_on_imdb(prompt: str, output_tokens: float = 1.028) -> dict[str, Any]:
    return {
        "name": f"gpt-4o-{prompt}",
        "declared": {
            "inputTokens": IMDB_TOKENS[f"{prompt} input"],
            "outputTokens": output_tokens,
            "inputUsdPer1MTokens": GPT4O["input"],
            "outputUsdPer1MTokens": GPT4O["output"],
            "source": "arXiv 2602.06370",
        },
    }


def test_the_papers_gpt4o_costs_come_out_of_their_tokens_through_the_baseline_path() -> None:
    spec = spec_of(baselines=[gpt4o_on_imdb("zero-shot"), gpt4o_on_imdb("few-shot")])
    shown = {b.name: b for b in planner.plan(spec, ClassifierModelStatus(), World(), NOW, "tickets").status.baselines}
    published = PAPER["figures"]["cost_per_1M_usd"]["imdb"]
    assert round(shown["gpt-4o-zero-shot"].cost_per_1m, 2) == published["gpt-4o zero-shot"]
    assert round(shown["gpt-4o-few-shot"].cost_per_1m, 2) == published["gpt-4o few-shot"]
    assert shown["gpt-4o-zero-shot"].utility is None  # no macro-F1 or latency declared: no utility


def test_the_decision_compares_the_promoted_version_with_the_best_baseline() -> None:
    baselines = [
        {"name": "gpt-4o-mini", "declared": {"macroF1": 0.87, "p50Ms": 400, "costPer1M": 160.0, "source": "ours"}},
        {"name": "dearer", "declared": {"macroF1": 0.90, "p50Ms": 900, "costPer1M": 900.0, "source": "ours"}},
    ]
    plan = settle(
        spec_of(baselines=baselines), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}
    )
    assert plan.status.promoted is not None and plan.status.promoted.version == 2  # baselines are never served
    cheaper = 160.0 / (0.053 * 4.0)
    assert plan.status.decision is not None
    assert plan.status.decision.message.endswith(
        f"; v2 is {cheaper:.0f}× cheaper than baseline gpt-4o-mini at +2.0 macro-F1 points"
    )
    assert [b.name for b in plan.status.baselines] == ["gpt-4o-mini", "dearer"]


def test_adding_a_baseline_is_not_a_new_generation() -> None:
    settled = settle(spec_of(), ClassifierModelStatus(), {1: metrics(0.90, 10.0), 2: metrics(0.89, 4.0)}).status
    with_baseline = spec_of(baselines=[gpt4o_on_imdb("zero-shot")])
    plan = planner.plan(with_baseline, settled, World(), NOW, "tickets")
    assert plan.generation == 1 and [v.version for v in plan.status.versions] == [1, 2]
    assert [b.name for b in plan.status.baselines] == ["gpt-4o-zero-shot"]


@pytest.mark.parametrize(
    ("baseline", "field", "words"),
    [
        (
            {"name": "b", "declared": {"macroF1": 0.9, "source": "s"}},
            "spec.baselines[0].declared.costPer1M",
            "inputTokens",
        ),
        (
            {
                "name": "b",
                "declared": {"inputTokens": 10, "outputTokens": 1, "inputUsdPer1MTokens": 1.0, "source": "s"},
            },
            "spec.baselines[0].declared.costPer1M",
            "prices per 1M tokens",
        ),
        (
            {"name": "b", "declared": {"costPer1M": 0, "source": "s"}},
            "spec.baselines[0].declared.costPer1M",
            "greater than 0",
        ),
        (
            {"name": "b", "declared": {"costPer1M": 1, "macroF1": 94.4, "source": "s"}},
            "spec.baselines[0].declared.macroF1",
            "less than or equal to 1",
        ),
        ({"name": "GPT 4o", "declared": {"costPer1M": 1, "source": "s"}}, "spec.baselines[0].name", "pattern"),
        ({"name": "b", "declared": {"costPer1M": 1}}, "spec.baselines[0].declared.source", "required"),
    ],
    ids=["no-price", "half-the-token-prices", "zero-cost", "f1-in-percent", "name", "no-source"],
)
def test_a_broken_baseline_is_reported_at_its_field(baseline: dict[str, Any], field: str, words: str) -> None:
    document = copy.deepcopy(MINIMAL)
    document["spec"]["baselines"] = [baseline]
    errors = errors_of(document)
    assert field in errors and words in errors[field], errors


def test_baseline_names_are_unique() -> None:
    document = copy.deepcopy(MINIMAL)
    document["spec"]["baselines"] = [gpt4o_on_imdb("zero-shot"), gpt4o_on_imdb("zero-shot")]
    assert "baseline names must be unique; repeated: gpt-4o-zero-shot" in errors_of(document)["spec.baselines"]


# Measured (llm) baselines ----------------------------------------------------------------------------------------

LLM = {"endpoint": "https://api.example.com/v1", "model": "gpt-4o-mini", "credentials": {"name": "openai"},
       "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.60}


def llm_spec(**changes: Any) -> Any:
    return spec_of(baselines=[{"name": "mini", "llm": {**LLM, **changes}}])


def measured_for(digest: str) -> BaselineMeasured:
    found = LlmMeasurement(digest=digest, rows=200, accuracy=0.9, input_tokens=300.0, output_tokens=2.0,
                           unparseable=3, errors=0, retries=2, requests=202)
    return BaselineMeasured(macro_f1=0.88, p50_ms=420.0, p95_ms=900.0, p99_ms=1500.0, measurement=found)


def test_an_llm_baseline_is_measured_once_priced_by_its_tokens_and_not_asked_again() -> None:
    spec = llm_spec()
    first = planner.plan(spec, ClassifierModelStatus(), World(), NOW, "tickets")
    [action] = [a for a in first.actions if isinstance(a, MeasureBaseline)]
    assert action.key.name == "mini" and first.status.baselines[0].message == "waiting to be measured"

    done = planner.plan(spec, first.status, World(work={action.key: measured_for(action.key.digest)}), NOW, "tickets")
    [shown] = done.status.baselines
    assert (shown.kind, shown.macro_f1, shown.p95_ms) == ("llm", 0.88, 900.0)
    assert shown.cost_per_1m == pytest.approx(300 * 0.15 + 2 * 0.60)  # 46.2 USD per 1M requests
    assert shown.measured is not None and shown.measured.unparseable == 3

    again = planner.plan(spec, done.status, World(), NOW, "tickets")  # a re-run, nothing observed
    assert not [a for a in again.actions if isinstance(a, MeasureBaseline)] and again.status.baselines == [shown]


@pytest.mark.parametrize(
    ("change", "measured_again"),
    [({"prompt": "fewShot"}, True), ({"maxOutputTokens": 4}, True), ({"credentials": {"name": "other"}}, False)],
    ids=["prompt", "output-cap", "credentials"],
)
def test_what_a_measurement_depends_on_measures_again_and_credentials_do_not(
    change: dict[str, Any], measured_again: bool
) -> None:
    spec = llm_spec()
    key = next(a for a in planner.plan(spec, ClassifierModelStatus(), World(), NOW, "tickets").actions
               if isinstance(a, MeasureBaseline)).key
    status = planner.plan(spec, ClassifierModelStatus(), World(work={key: measured_for(key.digest)}), NOW, "t").status
    edited = planner.plan(llm_spec(**change), status, World(), NOW, "tickets")
    assert bool([a for a in edited.actions if isinstance(a, MeasureBaseline)]) == measured_again


def test_a_baseline_that_cannot_be_measured_says_why_and_is_not_asked_again_while_the_failure_stands() -> None:
    spec = llm_spec()
    key = next(a for a in planner.plan(spec, ClassifierModelStatus(), World(), NOW, "tickets").actions
               if isinstance(a, MeasureBaseline)).key
    failed = World(work={key: Failed("CredentialsMissing", "no API key ($FRONTIER_BASELINE_MINI_API_KEY is not set)")})
    plan = planner.plan(spec, ClassifierModelStatus(), failed, NOW, "tickets")
    shown = plan.status.baselines[0]
    assert (shown.reason, shown.message) == (
        "CredentialsMissing", "no API key ($FRONTIER_BASELINE_MINI_API_KEY is not set)"
    )
    condition = next(c for c in plan.status.conditions if c.type == "BaselinesMeasured")
    assert (condition.status, condition.reason) == ("False", "CredentialsMissing")  # a condition, not a crash
    assert condition.message == "mini: no API key ($FRONTIER_BASELINE_MINI_API_KEY is not set)"
    assert [e.warning for e in plan.events if e.reason == "BaselineFailed"] == [True]
    assert not [a for a in plan.actions if isinstance(a, MeasureBaseline)]
    quiet = planner.plan(spec, plan.status, failed, NOW, "tickets")
    assert not [e for e in quiet.events if e.reason == "BaselineFailed"]  # said once, not on every pass


@pytest.mark.parametrize(
    ("llm", "field", "words"),
    [
        ({**LLM, "endpoint": "ftp://models/v1"}, "spec.baselines[0].llm.endpoint", "pattern"),
        ({k: v for k, v in LLM.items() if k != "inputUsdPer1MTokens"}, "spec.baselines[0].llm.inputUsdPer1MTokens",
         "required"),
        ({**LLM, "credentials": {"name": "Not_A_Secret"}}, "spec.baselines[0].llm.credentials.name", "pattern"),
    ],
    ids=["not-http", "no-input-price", "secret-name"],
)
def test_a_broken_llm_baseline_is_reported_at_its_field(llm: dict[str, Any], field: str, words: str) -> None:
    document = copy.deepcopy(MINIMAL)
    document["spec"]["baselines"] = [{"name": "mini", "llm": llm}]
    errors = errors_of(document)
    assert field in errors and words in errors[field], errors


def test_a_baseline_is_either_declared_or_measured() -> None:
    document = copy.deepcopy(MINIMAL)
    declared = {"costPer1M": 1.0, "source": "s"}
    for both_or_none in ({"declared": declared, "llm": LLM}, {}):
        document["spec"]["baselines"] = [{"name": "b", **both_or_none}]
        assert "exactly one of declared and llm" in errors_of(document)["spec.baselines[0].declared"]
