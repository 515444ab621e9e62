"""Promotion and rollback: which version the stable model name serves, switched without failing a request.

Design. Every version N is its own Triton model ``<m>__vN`` (benchmark traffic calls it explicitly). The
stable name ``<m>`` is one more model whose ``config.pbtxt`` has ``version_policy { specific { versions:
[N] } }`` and whose version directory ``<m>/N`` is a symlink to ``<m>__vN/N``. Clients call ``<m>`` with no
version and get N. To switch to M we rewrite the stable config (atomically) to select M and ask Triton to
load ``<m>`` again.

Why this is zero-error (checked by ``tests/serving/test_swap.py``, which hammers ``<m>`` with concurrent
requests through a promotion and a rollback and counts failures): in explicit mode, reloading a loaded
model makes Triton's model lifecycle load the *new* version set first while the old versions keep serving;
only when M is READY does it retire N, and N is unloaded after its in-flight requests complete. A request
without a version goes to the highest READY version, which is N or M throughout — never nothing. If M fails
to load, the reload fails, N keeps serving, and the stable config is put back.

The rejected alternatives: one model holding every version (unversioned requests would go to the highest
version, not the promoted one); a BLS proxy model (an extra hop on every request); unload-then-load
(a window with no model). Rewriting the file rather than passing a ``config`` override in ``load_model``
keeps the repository the truth: a restarted Triton serves what was promoted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from frontier.errors import ServingError
from frontier.files import write_text_atomically
from frontier.serving.client import TritonClient
from frontier.serving.repository import ModelRepository


@dataclass(frozen=True)
class Swap:
    model: str
    version: int
    previous: int | None
    seconds: float


def promoted_version(client: TritonClient, repository: ModelRepository) -> int | None:
    """The version the stable name serves now (None when it is not loaded)."""
    loaded = client.loaded_versions(repository.model_name)
    return loaded[-1] if loaded else None


def promote(client: TritonClient, repository: ModelRepository, version: int, wait_s: float = 60.0) -> Swap:
    """Make the stable name serve ``version``; in-flight and new requests keep being answered."""
    started = time.monotonic()
    repository.verify_version(version)
    previous = repository.stable_version()
    config_path = repository.stable_config_path()
    old_config = config_path.read_text() if config_path.is_file() else None
    if repository.serving.backend == "onnxruntime":
        # The ensemble's parts must be loaded before the ensemble that calls them.
        for name in repository.models_of(version)[:-1]:
            client.load(name)
    repository.write_stable(version)
    try:
        client.load(repository.model_name)
    except ServingError:
        if old_config is not None:
            write_text_atomically(config_path, old_config)
        raise
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if client.loaded_versions(repository.model_name) == [version]:
            return Swap(repository.model_name, version, previous, time.monotonic() - started)
        time.sleep(0.05)
    raise ServingError(
        f"{repository.model_name}: still not serving only version {version} after {wait_s:.0f} s "
        f"(ready: {client.loaded_versions(repository.model_name)})"
    )


def rollback(client: TritonClient, repository: ModelRepository, to_version: int) -> Swap:
    """Serve ``to_version`` again (the previously promoted version); the same zero-error switch."""
    return promote(client, repository, to_version)


def retire(client: TritonClient, repository: ModelRepository, version: int) -> None:
    """Unload the benchmark model of ``version`` (the stable name is not touched)."""
    if repository.stable_version() == version:
        raise ServingError(f"version {version} is what {repository.model_name} serves; promote another first")
    client.unload_version(repository, version)
