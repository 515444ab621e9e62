"""Promotion, rollback and retirement of a local repository's versions: which version the stable name serves.

The switch itself is ``TritonClient.promote``, the one strategy both executors use (its docstring says how
and why): load the version's own model ``<m>__vN`` if it is not, then load the stable name ``<m>`` with that
model's config as an override restricted to ``version_policy { specific { versions: [N] } }``. It writes no
file, so it needs no access to the repository volume (the operator has none), and it is zero-error: Triton
loads the new version set before it retires the old one (``tests/serving/test_triton.py`` counts failed
requests under concurrent load through promote → rollback → promote).

What this module adds, having the volume at hand: every file of the version is re-hashed
(``ModelRepository.verify_version``) before Triton loads anything of it, and the stable name's directory
``<m>/N`` is made if it is missing. Nothing here remembers what was promoted: the stable name's config lives
in Triton's memory only, and a restarted Triton serves nothing under ``<m>`` until the executor promotes
again from its status (level-triggered: it observes ``promoted_version`` and promotes when it differs).
"""

from __future__ import annotations

from frontier.errors import ServingError
from frontier.serving.client import Swap, TritonClient
from frontier.serving.repository import ModelRepository

__all__ = ["Swap", "promote", "promoted_version", "retire", "rollback"]


def promoted_version(client: TritonClient, repository: ModelRepository) -> int | None:
    """The version the stable name serves now (None when it serves none, or not exactly one)."""
    return client.served_version(repository.model_name)


def promote(client: TritonClient, repository: ModelRepository, version: int, wait_s: float = 60.0) -> Swap:
    """Make the stable name serve ``version``; in-flight and new requests keep being answered."""
    repository.verify_version(version)
    repository.link_stable(version)
    if not client.model_ready(repository.version_model(version), version):
        client.load_version(repository, version)  # composing models first, for the onnxruntime ensemble
    return client.promote(repository.model_name, version, wait_s=wait_s)


def rollback(client: TritonClient, repository: ModelRepository, to_version: int) -> Swap:
    """Serve ``to_version`` again (the previously promoted version); the same zero-error switch."""
    return promote(client, repository, to_version)


def retire(client: TritonClient, repository: ModelRepository, version: int) -> None:
    """Unload the benchmark model of ``version`` (the stable name is not touched)."""
    if version in client.loaded_versions(repository.model_name):
        raise ServingError(f"version {version} is what {repository.model_name} serves; promote another first")
    client.unload_version(repository, version)
