"""Frontier: fine-tune, export, serve, benchmark and promote text classifiers, on Kubernetes or one machine.

Importing ``frontier`` stays light (pydantic and PyYAML): torch, transformers and onnxruntime load only
inside the workloads that need them (``frontier.trainer``, the embedded Triton, the benchmark client).
"""

from importlib import metadata as _metadata

from frontier.api import ClassifierModel, load, parse
from frontier.errors import (
    ArtifactError,
    DataError,
    FieldError,
    FrontierError,
    ServingError,
    SpecError,
    TrainingError,
)

try:
    __version__ = _metadata.version("frontier")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ArtifactError",
    "ClassifierModel",
    "DataError",
    "FieldError",
    "FrontierError",
    "ServingError",
    "SpecError",
    "TrainingError",
    "__version__",
    "load",
    "parse",
]
