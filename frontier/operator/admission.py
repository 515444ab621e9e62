"""The platform admin's policy on what a ClassifierModel may name: pure, no I/O.

One operator serves many teams' namespaces, and what their Jobs run and reach is the admin's decision,
not each manifest's (``OperatorSettings``: ``FRONTIER_OPERATOR_ALLOWED_*``, the chart's ``policy`` values):

- ``allowed_images``: prefixes of the images a Job may run: a candidate's ``image``, and the worker
  image of every Job that names none (benchmark and purge Jobs always run it);
- ``allowed_pvcs``: the PVCs ``spec.storage.pvc`` may mount;
- ``allowed_secrets``: the Secrets ``spec.storage.credentialsSecret`` may load into a Job's environment;
- ``allowed_endpoints``: the Triton endpoints ``spec.serving.endpoint`` may point the operator and the
  benchmark Jobs at.

An empty list allows anything (the behaviour without a policy). ``violations`` lists every breach, each
message starting with the field's path in the manifest; the operator then sets a ``PolicyViolation``
condition and creates no Job.

Prefixes match at a boundary, never inside a name: ``ghcr.io/acme`` allows ``ghcr.io/acme/worker:1``
and ``ghcr.io/acme:2`` but not ``ghcr.io/acme-evil/worker``; an endpoint is compared as a URL (scheme,
host, port when the allowed entry names one, path segments), so ``http://triton.acme@evil.example`` is
not ``http://triton.acme``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from frontier.api.spec import ClassifierModelSpec
from frontier.operator.settings import OperatorSettings

CONDITION = "PolicyViolation"
"""The condition type (and reason) a model outside the policy gets."""

_IMAGE_BOUNDARY = "/:@"


def image_allowed(image: str, allowed: tuple[str, ...]) -> bool:
    """Whether ``image`` starts with one of the ``allowed`` prefixes at a boundary (``/``, ``:`` or ``@``)."""
    if not allowed:
        return True
    for prefix in allowed:
        if image == prefix:
            return True
        if image.startswith(prefix) and (prefix[-1] in _IMAGE_BOUNDARY or image[len(prefix)] in _IMAGE_BOUNDARY):
            return True
    return False


def endpoint_allowed(endpoint: str, allowed: tuple[str, ...]) -> bool:
    """Whether the URL ``endpoint`` is under one of the ``allowed`` URLs: same scheme and host, the same
    port when the allowed one names a port, and a path under the allowed path (whole segments)."""
    if not allowed:
        return True
    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return False
    if url.username is not None or url.password is not None or not url.hostname:
        return False
    for entry in allowed:
        try:
            rule = urlsplit(entry)
            rule_port = rule.port
        except ValueError:
            continue
        if rule.scheme.lower() != url.scheme.lower() or (rule.hostname or "") != url.hostname:
            continue
        if rule_port is not None and rule_port != port:
            continue
        base = rule.path.rstrip("/")
        if url.path.rstrip("/") == base or url.path.startswith(base + "/"):
            return True
    return False


def _listed(allowed: tuple[str, ...]) -> str:
    return ", ".join(allowed)


def violations(spec: ClassifierModelSpec, settings: OperatorSettings) -> list[str]:
    """Every way ``spec`` breaks the admin's policy in ``settings``, one message per field; empty: admitted."""
    found: list[str] = []
    images = settings.allowed_images
    for index, candidate in enumerate(spec.candidates):
        if candidate.image and not image_allowed(candidate.image, images):
            found.append(
                f"spec.candidates[{index}].image: {candidate.image} is not in the operator's allowed images "
                f"({_listed(images)})"
            )
    if not image_allowed(settings.worker_image, images):
        found.append(
            f"workerImage (operator setting): {settings.worker_image}, which benchmark Jobs run, is not in the "
            f"operator's allowed images ({_listed(images)}); an admin must fix the operator's settings"
        )
    pvc = spec.storage.pvc
    if pvc and settings.allowed_pvcs and pvc not in settings.allowed_pvcs:
        found.append(
            f"spec.storage.pvc: {pvc} is not in the operator's allowed PVCs ({_listed(settings.allowed_pvcs)})"
        )
    secret = spec.storage.credentials_secret
    if secret and settings.allowed_secrets and secret not in settings.allowed_secrets:
        found.append(
            f"spec.storage.credentialsSecret: {secret} is not in the operator's allowed Secrets "
            f"({_listed(settings.allowed_secrets)})"
        )
    endpoint = spec.serving.endpoint
    if endpoint and not endpoint_allowed(endpoint, settings.allowed_endpoints):
        found.append(
            f"spec.serving.endpoint: {endpoint} is not in the operator's allowed Triton endpoints "
            f"({_listed(settings.allowed_endpoints)})"
        )
    return found


def message(found: list[str]) -> str:
    """One condition message for all of ``violations``' findings."""
    return "; ".join(found)


__all__ = ["CONDITION", "endpoint_allowed", "image_allowed", "message", "violations"]
