"""Promotion and unloading through Triton's HTTP repository API (``/v2/repository``), stdlib only.

Promotion makes the stable model name serve exactly one version: the operator reads the config of the
version's own model (``<m>__vN``, published and loaded by the benchmark Job), renames it to ``<m>``,
restricts ``version_policy`` to ``[N]`` and loads ``<m>`` with that config override. Triton still reads the
version's files from ``<m>/N``: the benchmark Job's ``ModelRepository.publish`` makes that link along with
``<m>__vN``, so the operator needs no volume. ``serving_version`` lets the reconciler re-assert the
promotion after a Triton restart (level-triggered), without reloading when Triton already serves it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from frontier.api.names import version_model
from frontier.errors import ServingError

TIMEOUT_S = 10.0


def _call(endpoint: str, method: str, path: str, body: Any = None) -> Any:
    url = endpoint.rstrip("/") + path
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")[:500]
        raise ServingError(f"Triton {method} {path}: HTTP {error.code}: {detail}") from None
    except OSError as error:
        raise ServingError(f"Triton at {endpoint} unreachable ({method} {path}): {error}") from None
    return json.loads(text) if text else None


def serving_version(endpoint: str, model_name: str) -> list[int]:
    """The READY versions of the stable name, from the repository index."""
    index = _call(endpoint, "POST", "/v2/repository/index", {}) or []
    return sorted(
        int(entry["version"])
        for entry in index
        if entry.get("name") == model_name and entry.get("state") == "READY" and entry.get("version")
    )


def promote(endpoint: str, model_name: str, version: int) -> None:
    """Serve ``version`` (and only it) under ``model_name``."""
    config = _call(endpoint, "GET", f"/v2/models/{version_model(model_name, version)}/config")
    if not isinstance(config, dict):
        raise ServingError(f"Triton returned no config for {version_model(model_name, version)}")
    config = {**config, "name": model_name, "version_policy": {"specific": {"versions": [version]}}}
    _call(
        endpoint,
        "POST",
        f"/v2/repository/models/{model_name}/load",
        {"parameters": {"config": json.dumps(config)}},
    )


def ensure_promoted(endpoint: str, model_name: str, version: int) -> bool:
    """Promote unless Triton already serves exactly ``version``; True when it loaded."""
    if serving_version(endpoint, model_name) == [version]:
        return False
    promote(endpoint, model_name, version)
    return True


def unload(endpoint: str, names: list[str]) -> None:
    for name in names:
        _call(
            endpoint,
            "POST",
            f"/v2/repository/models/{name}/unload",
            {"parameters": {"unload_dependents": True}},
        )
