"""Frontier's text classifier as one Triton python-backend model (runs inside the python-backend stub).

Inputs ``TEXT`` (BYTES, [batch, 1]); outputs ``LABEL`` (BYTES, [batch, 1]), ``PROBABILITY`` (FP32,
[batch, 1]) and ``PROBABILITIES`` (FP32, [batch, num_labels]). The version directory holds ``model.onnx``,
``tokenizer/`` and ``labels.json`` (copied from a verified artifact by ``frontier.serving.repository``).
All the texts of the requests Triton's dynamic batcher hands to one ``execute`` are tokenized together
(padded to the longest, cut to the artifact's ``max_length`` by its ``truncation``) and run as one ONNX Runtime batch;
each response carries the outputs its request asked for (Triton asks for all of them when a client names none).
Parameters: ``intra_op_threads`` (ONNX Runtime threads; 0 = the runtime's choice).
"""

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

sys.path.insert(0, str(Path(__file__).parent))  # frontier_tokens.py, copied beside this file
from frontier_tokens import TextEncoder


def softmax(logits: Any) -> Any:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        version_dir = Path(args["model_repository"]) / args["model_version"]
        meta = json.loads((version_dir / "labels.json").read_text())
        self.labels = np.array([label.encode("utf-8") for label in meta["labels"]], dtype=object)
        params = config.get("parameters", {})
        threads = int(params.get("intra_op_threads", {}).get("string_value", "0") or 0)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(version_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.encoder = TextEncoder.from_directory(
            version_dir / "tokenizer", int(meta["max_length"]), meta.get("truncation", "head")
        )

    def execute(self, requests: list[Any]) -> list[Any]:
        texts: list[str] = []
        counts: list[int] = []
        for request in requests:
            array = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            counts.append(len(array))
            texts.extend(t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in array)
        try:
            logits = self.logits(texts)
        except Exception as error:  # every request of the batch gets the error, Triton keeps serving
            message = f"inference failed: {error}"
            return [pb_utils.InferenceResponse(error=pb_utils.TritonError(message)) for _ in requests]
        best = logits.argmax(axis=1)
        wanted = [set(request.requested_output_names()) for request in requests]
        probabilities = softmax(logits) if any(w - {"LABEL"} for w in wanted) else None
        responses, start = [], 0
        for count, names in zip(counts, wanted, strict=True):
            part = slice(start, start + count)
            start += count
            # Only what the request asked for: every tensor is a shared-memory copy between the stub and Triton.
            tensors = [pb_utils.Tensor("LABEL", self.labels[best[part]].reshape(-1, 1))] if "LABEL" in names else []
            if probabilities is not None and "PROBABILITY" in names:
                chosen = probabilities[part].max(axis=1).reshape(-1, 1)
                tensors.append(pb_utils.Tensor("PROBABILITY", chosen.astype(np.float32)))
            if probabilities is not None and "PROBABILITIES" in names:
                tensors.append(pb_utils.Tensor("PROBABILITIES", np.ascontiguousarray(probabilities[part])))
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses

    def logits(self, texts: list[str]) -> Any:
        feeds = self.encoder.arrays(texts)
        logits = self.session.run(["logits"], {n: feeds[n] for n in self.input_names})[0]
        return logits.astype(np.float32)

    def finalize(self) -> None:
        self.session = None
