"""The last step of the ``onnxruntime`` ensemble (runs inside Triton's python-backend stub).

``logits`` (FP32, [batch, num_labels]) → ``LABEL`` (BYTES, [batch, 1]), ``PROBABILITY`` (FP32, [batch, 1])
and ``PROBABILITIES`` (FP32, [batch, num_labels]): a softmax and the argmax's label name. The version
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
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
            best = probabilities.argmax(axis=1)
            tensors = [
                pb_utils.Tensor("LABEL", self.labels[best].reshape(-1, 1)),
                pb_utils.Tensor("PROBABILITY", probabilities.max(axis=1).reshape(-1, 1).astype(np.float32)),
                pb_utils.Tensor("PROBABILITIES", probabilities.astype(np.float32)),
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
