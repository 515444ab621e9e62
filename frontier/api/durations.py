"""Durations as manifests write them (``500ms``, ``1.5s``, ``2m``), the subset CEL's ``duration()`` reads."""

from __future__ import annotations

import re

_UNITS_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"
_RE = re.compile(PATTERN)


def to_ms(text: str) -> float:
    """Milliseconds in ``text``; ValueError when it is not ``<number><ms|s|m|h>``."""
    match = _RE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as '500ms', '1.5s' or '2m'")
    unit = match.group(2)
    return float(text.strip()[: -len(unit)]) * _UNITS_MS[unit]
