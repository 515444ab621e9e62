"""The base of every API model: camelCase on the wire, snake_case in Python, unknown fields refused."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


def wire_name(name: str) -> str:
    """``cost_per_1m`` → ``costPer1M``: camelCase, with "per 1M" spelt as people write it."""
    return re.sub(r"1m(?=[A-Z]|$)", "1M", to_camel(name))


class ApiModel(BaseModel):
    """A part of the ClassifierModel API.

    Field names are snake_case in Python and camelCase in manifests (``max_train_samples`` is
    ``maxTrainSamples``). Unknown fields are errors, as they are for the API server's pruning
    schema: a misspelt field must never be silently ignored.
    """

    model_config = ConfigDict(
        alias_generator=wire_name,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
        use_enum_values=True,
        use_attribute_docstrings=True,
    )

    def to_wire(self) -> dict[str, object]:
        """The manifest form: camelCase keys, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class RuleViolation(ValueError):
    """A cross-field rule broken below the model that checks it; ``field`` is the dotted path from there."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
