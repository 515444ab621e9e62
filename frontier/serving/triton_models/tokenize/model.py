"""The first step of the ``onnxruntime`` ensemble (runs inside Triton's python-backend stub).

``TEXT`` (BYTES, [batch, 1]) → ``input_ids``, ``attention_mask``, ``token_type_ids`` (INT64,
[batch, max_length]). Every text is padded to the artifact's ``max_length`` so that Triton's dynamic
batcher can batch the next step (the onnxruntime model): it only batches tensors of equal shape.
The version directory holds ``tokenizer/`` and ``labels.json`` (for ``max_length`` and ``truncation``).
"""

import json
import sys
from pathlib import Path
from typing import Any

import triton_python_backend_utils as pb_utils

sys.path.insert(0, str(Path(__file__).parent))  # frontier_tokens.py, copied beside this file
from frontier_tokens import TextEncoder


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        meta = json.loads((version_dir / "labels.json").read_text())
        self.max_length = int(meta["max_length"])
        self.encoder = TextEncoder.from_directory(
            version_dir / "tokenizer", self.max_length, meta.get("truncation", "head")
        )

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            array = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            texts = [t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in array]
            arrays = self.encoder.arrays(texts, length=self.max_length)
            tensors = [pb_utils.Tensor(name, array) for name, array in arrays.items()]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
