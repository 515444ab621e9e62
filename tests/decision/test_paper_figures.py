"""The cost models and the utility reproduce arXiv 2602.06370's published figures from its own inputs.

The inputs are the paper's published figures, kept in the repository as tests/fixtures/paper-2602.06370.json:
Cloud Run's per-second prices for the encoder deployment (2 vCPU, 2 GiB), GPT-4o's token prices and the IMDB
prompt sizes, the SST-2 p50s.
"""

from __future__ import annotations

import json
import math

import pytest

from frontier.decision import cost
from frontier.decision.utility import utility
from tests.conftest import ROOT

ANCHORS = json.loads((ROOT / "tests" / "fixtures" / "paper-2602.06370.json").read_text())


def cloud_run() -> cost.Instance:
    deployment = ANCHORS["encoder_deployment"]
    prices = deployment["pricing_usd"]
    return cost.Instance(
        vcpus=deployment["vcpu"],
        memory_gib=deployment["memory_gib"],
        vcpu_hour_usd=prices["per_vcpu_second"] * 3600,
        memory_gib_hour_usd=prices["per_gib_second"] * 3600,
    )


def cents(x: float) -> float:
    return round(x + 1e-9, 2)


def test_cloud_run_bills_0_053_dollars_per_million_requests_per_ms_of_latency():
    assert cost.occupancy(1.0, cloud_run()) == pytest.approx(0.053)
    assert cost.CLOUD_RUN_2CPU_2GIB.usd_per_second == pytest.approx(cloud_run().usd_per_second)


def test_distilbert_on_sst2_at_p50_98ms_costs_5_19_per_million():
    p50 = ANCHORS["figures"]["latency_ms"]["sst2"]["distilbert"]["p50"]
    assert cents(cost.occupancy(p50, cloud_run())) == 5.19


def test_the_encoder_maximum_of_32_98_per_million_at_p50_622ms():
    # The paper prints p50 rounded to the millisecond: 622 ms stands for [621.5, 622.5). The cost of any
    # latency in that interval rounds to the published $32.98 for some p50 in it, and 622.0 itself
    # gives $32.97 — one cent of rounding in the printed latency, not in the price model.
    published = ANCHORS["figures"]["cost_per_1M_usd"]["range"]["encoders"][1]
    assert published == 33  # the anchor's range is rounded; the issue quotes $32.98
    low, high = cost.occupancy(621.5, cloud_run()), cost.occupancy(622.5, cloud_run())
    assert low <= 32.98 < high
    assert abs(cost.occupancy(622, cloud_run()) - 32.98) < 0.015


def test_gpt4o_on_imdb_costs_842_78_zero_shot_and_1537_78_few_shot():
    prices = ANCHORS["llm_pricing_usd_per_1M_tokens"]["gpt-4o"]
    tokens = ANCHORS["figures"]["llm_tokens"]["imdb gpt-4o"]
    published = ANCHORS["figures"]["cost_per_1M_usd"]["imdb"]
    # The output length is not published: solve it from the zero-shot figure (≈1.03 tokens, the label),
    # then the few-shot figure must follow from its own prompt length alone.
    output_tokens = (published["gpt-4o zero-shot"] - tokens["zero-shot input"] * prices["input"]) / prices["output"]
    assert 1.0 <= output_tokens <= 1.1
    zero = cost.token_priced(tokens["zero-shot input"], output_tokens, prices["input"], prices["output"])
    few = cost.token_priced(tokens["few-shot input"], output_tokens, prices["input"], prices["output"])
    assert cents(zero) == 842.78
    assert cents(few) == 1537.78


@pytest.mark.parametrize("tau_ms", ANCHORS["utility"]["tau_ms"])
def test_utility_ranks_distilbert_above_gpt4o_and_claude_on_sst2_for_any_f1_in_0_90_to_0_95(tau_ms):
    latency = ANCHORS["figures"]["latency_ms"]["sst2"]
    encoder_cost = cost.occupancy(latency["distilbert"]["p50"], cloud_run())
    cheapest_llm = ANCHORS["figures"]["cost_per_1M_usd"]["range"]["llms"][0]
    assert cheapest_llm == 192
    grid = [0.90 + i * 0.005 for i in range(11)]
    worst_encoder = min(utility(f1, encoder_cost, latency["distilbert"]["p50"], tau_ms) for f1 in grid)
    for llm in ("gpt-4o", "claude-sonnet-4.5"):
        best_llm = max(utility(f1, cheapest_llm, latency[llm]["p50"], tau_ms) for f1 in grid)
        assert worst_encoder > best_llm, (llm, tau_ms)


def test_dedicated_capacity_spreads_the_hourly_price_over_sustained_throughput():
    instance = cost.Instance(vcpus=2, memory_gib=2, vcpu_hour_usd=0.0864, memory_gib_hour_usd=0.009)
    # $0.1908 per hour at 100 requests/s: 360,000 requests an hour → $0.53 per 1M.
    assert cost.dedicated(100.0, instance) == pytest.approx(0.53)
    with pytest.raises(ValueError, match="throughput"):
        cost.dedicated(0.0, instance)


def test_the_request_fee_is_added_per_million():
    instance = cost.Instance(vcpus=1, memory_gib=0, vcpu_hour_usd=3.6, request_fee_per_1m_usd=0.40)
    assert cost.occupancy(1.0, instance) == pytest.approx(1.0 + 0.40)


def test_utility_is_f1_over_cost_discounted_by_latency():
    assert utility(0.9, 5.0, 250.0, 500.0) == pytest.approx(0.9 / 5.0 * math.exp(-0.5))
    for bad in ({"macro_f1": 1.2}, {"cost_per_1m": 0.0}, {"tau_ms": 0.0}, {"latency_ms": -1.0}):
        args = {"macro_f1": 0.9, "cost_per_1m": 5.0, "latency_ms": 100.0, "tau_ms": 500.0} | bad
        with pytest.raises(ValueError):
            utility(**args)
