"""The ClassifierModel resource as a whole, and loading it from manifests with field-path errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import ConfigDict, Field, ValidationError

from frontier.api import names
from frontier.api._base import ApiModel, RuleViolation
from frontier.api.spec import DNS_LABEL, ClassifierModelSpec
from frontier.api.status import ClassifierModelStatus
from frontier.errors import FieldError, SpecError

GROUP = "frontier.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "ClassifierModel"
PLURAL = "classifiermodels"
SINGULAR = "classifiermodel"
SHORT_NAMES = ["clm"]


class ObjectMeta(ApiModel):
    """The part of metav1.ObjectMeta Frontier reads; the rest is kept as it is."""

    model_config = ApiModel.model_config | ConfigDict(extra="allow")

    name: Annotated[str, Field(min_length=1, max_length=63, pattern=DNS_LABEL)]
    namespace: str | None = None
    generation: int | None = None
    uid: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ClassifierModel(ApiModel):
    api_version: Literal["frontier.dev/v1alpha1"] = "frontier.dev/v1alpha1"
    kind: Literal["ClassifierModel"] = "ClassifierModel"
    metadata: ObjectMeta
    spec: ClassifierModelSpec
    status: ClassifierModelStatus | None = None

    @property
    def model_name(self) -> str:
        """The stable Triton model name clients call."""
        return names.stable_name(self.spec, self.metadata.name, self.metadata.namespace)


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-after", "function-before", "function-wrap")):
            continue  # pydantic's validator frames are not fields
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


def field_errors(error: ValidationError) -> list[FieldError]:
    """Pydantic's errors as ``path: rule`` pairs, with cross-field rules pointing at their field."""
    result: list[FieldError] = []
    for item in error.errors():
        path = _path(tuple(item["loc"]))
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolation):
            result.append(FieldError(f"{path}.{cause.field}" if path != "<root>" else cause.field, cause.message))
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "missing":
            message = "required field is missing"
        elif item["type"] == "literal_error":
            message = f"{message} (got {item.get('input')!r})"
        result.append(FieldError(path, message))
    return result


def parse(document: Any, source: str | None = None) -> ClassifierModel:
    """A ClassifierModel from a decoded manifest; SpecError lists every broken rule."""
    if not isinstance(document, dict):
        raise SpecError([FieldError("<root>", "a manifest must be a mapping")], source)
    if document.get("kind", KIND) != KIND:
        raise SpecError([FieldError("kind", f"expected {KIND!r}, got {document.get('kind')!r}")], source)
    try:
        return ClassifierModel.model_validate(document)
    except ValidationError as error:
        raise SpecError(field_errors(error), source) from None


def load(path: str | Path) -> ClassifierModel:
    """The one ClassifierModel in a YAML file (other kinds in a multi-document file are skipped)."""
    path = Path(path)
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except OSError as error:
        raise SpecError([FieldError("<file>", f"cannot read: {error.strerror}")], str(path)) from None
    except yaml.YAMLError as error:
        raise SpecError([FieldError("<file>", f"not valid YAML: {error}")], str(path)) from None
    models = [d for d in documents if isinstance(d, dict) and d.get("kind", KIND) == KIND]
    if len(models) != 1:
        raise SpecError([FieldError("<file>", f"expected exactly one ClassifierModel, found {len(models)}")], str(path))
    return parse(models[0], str(path))


def check_against_status(model: ClassifierModel) -> list[FieldError]:
    """Rules that need the status too: a pinned version must be one of the versions."""
    pinned = model.spec.promotion.pinned_version
    status = model.status
    if pinned is None or status is None:
        return []
    if status.version(pinned) is None:
        known = ", ".join(str(v.version) for v in status.versions) or "none yet"
        return [FieldError("spec.promotion.pinnedVersion", f"version {pinned} is not among versions ({known})")]
    return []
