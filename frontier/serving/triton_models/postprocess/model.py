"""The last step of the ``onnxruntime`` ensemble (runs inside Triton's python-backend stub).

``logits`` (FP32, [batch, num_labels]) → ``LABEL`` (BYTES, [batch, 1]), ``PROBABILITY`` (FP32, [batch, 1])
and ``PROBABILITIES`` (FP32, [batch, num_labels]): a softmax and the argmax's label name, as many of them as
the request asked for (all when a client names none). The version
directory holds ``labels.json``.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        meta = json.loads((version_dir / "labels.json").read_text())
        self.labels = np.array([label.encode("utf-8") for label in meta["labels"]], dtype=object)

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            logits = pb_utils.get_input_tensor_by_name(request, "logits").as_numpy().astype(np.float32)
            names = set(request.requested_output_names())
            tensors = (
                [pb_utils.Tensor("LABEL", self.labels[logits.argmax(axis=1)].reshape(-1, 1))]
                if "LABEL" in names
                else []
            )
            if names - {"LABEL"}:  # only what the request asked for: each tensor is a copy between stub and Triton
                shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
                probabilities = (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)
                if "PROBABILITY" in names:
                    tensors.append(pb_utils.Tensor("PROBABILITY", probabilities.max(axis=1).reshape(-1, 1)))
                if "PROBABILITIES" in names:
                    tensors.append(pb_utils.Tensor("PROBABILITIES", probabilities))
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
