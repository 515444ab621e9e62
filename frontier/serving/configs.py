"""Triton ``config.pbtxt`` for Frontier's models, built as ``ModelConfig`` protobufs (never by string pasting).

The client contract of every served classifier, whatever the backend::

    input  TEXT           TYPE_STRING [1]            (with max_batch_size > 0: [batch, 1])
    output LABEL          TYPE_STRING [1]            the argmax's label name
    output PROBABILITY    TYPE_FP32   [1]            its softmax probability
    output PROBABILITIES  TYPE_FP32   [num_labels]   the whole softmax, in the spec's label order

``classifier_config`` is the python-backend model (tokenizer + ONNX Runtime in one model).
``ensemble_configs`` is the same contract for clusters running the official Triton image with its
onnxruntime backend: a python ``tokenize`` model → an ``onnxruntime_onnx`` model → a python
``postprocess`` model, tied together by an ``ensemble``. Both are rendered with
``google.protobuf.text_format`` from tritonclient's ``model_config_pb2``, so what is written always parses.
"""

from __future__ import annotations

from typing import Any

from frontier.api.spec import ServingSpec

TEXT, LABEL, PROBABILITY, PROBABILITIES = "TEXT", "LABEL", "PROBABILITY", "PROBABILITIES"
TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _pb() -> Any:
    from tritonclient.grpc import model_config_pb2

    return model_config_pb2


def _text_format() -> Any:
    from google.protobuf import text_format  # type: ignore[import-untyped]

    return text_format


def render(config: Any) -> str:
    return str(_text_format().MessageToString(config))


def parse(text: str) -> Any:
    """A ``config.pbtxt`` as a ``ModelConfig``; raises ``google.protobuf.text_format.ParseError``."""
    return _text_format().Parse(text, _pb().ModelConfig())


def _io(config: Any, num_labels: int) -> None:
    pb = _pb()
    config.input.add(name=TEXT, data_type=pb.TYPE_STRING, dims=[1])
    _outputs(config, num_labels)


def _outputs(config: Any, num_labels: int) -> None:
    pb = _pb()
    config.output.add(name=LABEL, data_type=pb.TYPE_STRING, dims=[1])
    config.output.add(name=PROBABILITY, data_type=pb.TYPE_FP32, dims=[1])
    config.output.add(name=PROBABILITIES, data_type=pb.TYPE_FP32, dims=[num_labels])


def _scheduling(config: Any, serving: ServingSpec, instances: int | None = None) -> None:
    pb = _pb()
    config.max_batch_size = serving.max_batch_size
    config.instance_group.add(count=instances or serving.instance_count, kind=pb.ModelInstanceGroup.KIND_CPU)
    batching = serving.dynamic_batching
    if batching.enabled:
        config.dynamic_batching.max_queue_delay_microseconds = batching.max_queue_delay_microseconds
        config.dynamic_batching.preferred_batch_size.extend(
            size for size in batching.preferred_batch_sizes if size <= serving.max_batch_size
        )


def _versions(config: Any, versions: list[int]) -> None:
    config.version_policy.specific.versions.extend(versions)


def classifier_config(name: str, serving: ServingSpec, num_labels: int, versions: list[int]) -> Any:
    """The python-backend classifier serving ``versions`` (exactly those) under ``name``."""
    config = _pb().ModelConfig(name=name, backend="python")
    _versions(config, versions)
    _io(config, num_labels)
    _scheduling(config, serving)
    config.parameters["intra_op_threads"].string_value = str(serving.intra_op_threads)
    return config


def ensemble_names(name: str) -> dict[str, str]:
    """The composing models of ensemble ``name``."""
    return {"tokenize": f"{name}__tokenize", "onnx": f"{name}__onnx", "postprocess": f"{name}__postprocess"}


def ensemble_configs(
    name: str, serving: ServingSpec, num_labels: int, versions: list[int], parts_of: str | None = None
) -> dict[str, Any]:
    """``{model name: ModelConfig}`` of the ensemble ``name`` and, unless ``parts_of`` names another
    ensemble whose composing models it reuses (the stable name does), its three composing models."""
    pb = _pb()
    owner = parts_of or name
    parts = ensemble_names(owner)
    configs: dict[str, Any] = {}
    if parts_of is None:
        tokenize = pb.ModelConfig(name=parts["tokenize"], backend="python")
        tokenize.input.add(name=TEXT, data_type=pb.TYPE_STRING, dims=[1])
        for token_input in TOKEN_INPUTS:
            tokenize.output.add(name=token_input, data_type=pb.TYPE_INT64, dims=[-1])
        _scheduling(tokenize, serving, instances=1)

        onnx = pb.ModelConfig(name=parts["onnx"], platform="onnxruntime_onnx", default_model_filename="model.onnx")
        for token_input in TOKEN_INPUTS:
            onnx.input.add(name=token_input, data_type=pb.TYPE_INT64, dims=[-1])
        onnx.output.add(name="logits", data_type=pb.TYPE_FP32, dims=[num_labels])
        _scheduling(onnx, serving)
        if serving.intra_op_threads:
            onnx.parameters["intra_op_thread_count"].string_value = str(serving.intra_op_threads)

        post = pb.ModelConfig(name=parts["postprocess"], backend="python")
        post.input.add(name="logits", data_type=pb.TYPE_FP32, dims=[num_labels])
        _outputs(post, num_labels)
        _scheduling(post, serving, instances=1)
        for part in (tokenize, onnx, post):
            _versions(part, versions)
            configs[part.name] = part

    ensemble = pb.ModelConfig(name=name, platform="ensemble", max_batch_size=serving.max_batch_size)
    _versions(ensemble, versions)
    _io(ensemble, num_labels)
    steps = ensemble.ensemble_scheduling
    step = steps.step.add(model_name=parts["tokenize"], model_version=-1)
    step.input_map[TEXT] = TEXT
    for token_input in TOKEN_INPUTS:
        step.output_map[token_input] = f"_{token_input}"
    step = steps.step.add(model_name=parts["onnx"], model_version=-1)
    for token_input in TOKEN_INPUTS:
        step.input_map[token_input] = f"_{token_input}"
    step.output_map["logits"] = "_logits"
    step = steps.step.add(model_name=parts["postprocess"], model_version=-1)
    step.input_map["logits"] = "_logits"
    for output in (LABEL, PROBABILITY, PROBABILITIES):
        step.output_map[output] = output
    configs[name] = ensemble
    return configs


def with_versions(config: Any, name: str, versions: list[int]) -> Any:
    """A copy of ``config`` renamed to ``name`` and restricted to ``versions``."""
    copy = _pb().ModelConfig()
    copy.CopyFrom(config)
    copy.name = name
    copy.version_policy.ClearField("specific")
    _versions(copy, versions)
    return copy
