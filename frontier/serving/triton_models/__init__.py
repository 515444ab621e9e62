"""Triton python-backend models shipped as package data; ``repository`` copies them into version dirs.

* ``classifier/model.py``: the whole classifier in one model (backend ``python``): raw text in, tokenizer
  and ONNX Runtime inside, label and probabilities out.
* ``tokenize/model.py`` and ``postprocess/model.py``: the python ends of the ``onnxruntime`` ensemble
  (tokenizer → Triton's onnxruntime backend → softmax and labels).

These files run inside Triton's python-backend stub, not in Frontier's process: they import only
numpy, tokenizers, onnxruntime, ``triton_python_backend_utils`` and ``frontier.tokens``, copied beside
them as ``TOKENS_MODULE`` (the rule that cuts a long text, shared with training).
"""

from __future__ import annotations

from pathlib import Path

TOKENS_MODULE = "frontier_tokens.py"


def model_file(kind: str) -> Path:
    """The ``model.py`` of ``kind`` (``classifier``, ``tokenize`` or ``postprocess``)."""
    path = Path(__file__).parent / kind / "model.py"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path
