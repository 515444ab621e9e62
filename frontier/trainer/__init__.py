"""The training workload: fine-tune one candidate, pick its best checkpoint, export and check it.

Everything that imports torch, transformers, peft or onnxruntime lives in this package, and nothing
outside it imports this package at import time: ``frontier validate`` and the operator stay light.
The public entry points are ``frontier.trainer.pipeline.train_candidate`` (in-process) and
``frontier.trainer.entry`` (the ``frontier train`` verb, run by the training Job).
"""
