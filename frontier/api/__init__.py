"""The ClassifierModel API (``frontier.dev/v1alpha1``): pydantic models of spec and status.

No I/O beyond reading a manifest file, and no heavy imports: the operator, the CLI and the
workloads all import this package.
"""

from frontier.api.resource import (
    API_VERSION,
    GROUP,
    KIND,
    PLURAL,
    SHORT_NAMES,
    VERSION,
    ClassifierModel,
    check_against_status,
    load,
    parse,
)
from frontier.api.spec import CandidateSpec, ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus, Condition, Decision, Metrics, ModelVersion

__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "PLURAL",
    "SHORT_NAMES",
    "VERSION",
    "CandidateSpec",
    "ClassifierModel",
    "ClassifierModelSpec",
    "ClassifierModelStatus",
    "Condition",
    "Decision",
    "Metrics",
    "ModelVersion",
    "check_against_status",
    "load",
    "parse",
]
