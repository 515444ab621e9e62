"""Serving: the Triton model repository, an embedded Triton, stable-name promotion and the benchmark.

Modules: ``repository`` (publish an artifact precision as version N, checksummed), ``configs``
(config.pbtxt as protobufs), ``server`` (``EmbeddedTriton``), ``client`` (load/unload/infer),
``swap`` (zero-error promote/rollback of the stable name), ``loadgen`` + ``benchmark`` + ``scoring``
(``Metrics``), ``entry`` (``frontier bench``), ``local`` (``LocalServing``: all of it for ``frontier run``).
Nothing here imports torch; tritonclient and onnxruntime are imported where they are used.
See serving/README.md at the repository root for the design.
"""
