"""The first step of the ``onnxruntime`` ensemble (runs inside Triton's python-backend stub).

``TEXT`` (BYTES, [batch, 1]) → ``input_ids``, ``attention_mask``, ``token_type_ids`` (INT64,
[batch, max_length]). Every text is padded to the artifact's ``max_length`` so that Triton's dynamic
batcher can batch the next step (the onnxruntime model): it only batches tensors of equal shape.
The version directory holds ``tokenizer/`` and ``labels.json`` (for ``max_length``).
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import triton_python_backend_utils as pb_utils
from tokenizers import Tokenizer


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        version_dir = Path(args["model_repository"]) / args["model_version"]
        meta = json.loads((version_dir / "labels.json").read_text())
        max_length = int(meta["max_length"])
        directory = version_dir / "tokenizer"
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        pad_token = "[PAD]"
        config_path = directory / "tokenizer_config.json"
        if config_path.is_file():
            token = json.loads(config_path.read_text()).get("pad_token")
            pad_token = (token.get("content") if isinstance(token, dict) else token) or pad_token
        pad_id = self.tokenizer.token_to_id(pad_token)
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=pad_id or 0, pad_token=pad_token, length=max_length)

    def execute(self, requests: list[Any]) -> list[Any]:
        responses = []
        for request in requests:
            array = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            texts = [t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t) for t in array]
            encodings = self.tokenizer.encode_batch(texts)
            tensors = [
                pb_utils.Tensor("input_ids", np.array([e.ids for e in encodings], dtype=np.int64)),
                pb_utils.Tensor("attention_mask", np.array([e.attention_mask for e in encodings], dtype=np.int64)),
                pb_utils.Tensor("token_type_ids", np.array([e.type_ids for e in encodings], dtype=np.int64)),
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
        return responses
