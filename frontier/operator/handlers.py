"""The kopf handlers: thin. Each reads the object, calls ``reconcile`` in a worker thread (the
kubernetes client blocks), posts the Events it returns and counts what happened.

One daemon per ClassifierModel is its reconcile loop: it runs at start-up and after every restart
(kopf resumes daemons), whenever the model or one of its Jobs changes (the watch handlers wake it),
and at least every ``resync_s``. Deletion is held by kopf's finalizer until ``on_delete`` has removed
the Jobs and unloaded the model. Handlers live in their own registry so that importing this module
registers nothing globally.

Kopf's own state goes into annotations (``AnnotationsProgressStorage`` / ``AnnotationsDiffBaseStorage``):
the status schema is structural, so the API server would prune ``status.kopf``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import kopf
from pydantic import ValidationError

from frontier.api import GROUP, PLURAL, VERSION, names
from frontier.api.spec import ClassifierModelSpec
from frontier.operator import jobs, metrics, reconcile
from frontier.operator.k8s import Kube
from frontier.operator.settings import OperatorSettings

REGISTRY = kopf.OperatorRegistry()
PREFIX = "frontier.dev"
Logger = logging.Logger | logging.LoggerAdapter[Any]
FINALIZER = "frontier.dev/finalizer"
DEBOUNCE_S = 0.05


@dataclass
class Context:
    """What every handler needs, passed through kopf's memo (no module-level state)."""

    settings: OperatorSettings
    kube: Kube
    wakes: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)

    def wake(self, namespace: str, name: str) -> asyncio.Event:
        return self.wakes.setdefault((namespace, name), asyncio.Event())


def _context(memo: Any) -> Context:
    context: Context = memo["frontier"]
    return context


def _post(body: dict[str, Any], events: list[reconcile.Event]) -> None:
    for event in events:
        kopf.event(cast(Any, body), type=event.type, reason=event.reason, message=event.message[:1024])


@kopf.on.startup(registry=REGISTRY)
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    settings.posting.level = logging.INFO
    settings.execution.max_workers = 8


@kopf.on.login(registry=REGISTRY)
def login(memo: Any, **_: Any) -> kopf.ConnectionInfo:
    return kopf.ConnectionInfo(**_context(memo).kube.connection())


@kopf.index(GROUP, VERSION, PLURAL, registry=REGISTRY)
def served_names(
    name: str, namespace: str | None, spec: Mapping[str, Any], meta: Mapping[str, Any], **_: Any
) -> dict[str, names.Claim]:
    """Which resource claims which stable Triton name: one name belongs to one resource (the oldest)."""
    try:
        parsed = ClassifierModelSpec.model_validate(dict(spec))
    except ValidationError:
        return {}
    claim = names.Claim(str(meta.get("creationTimestamp") or ""), namespace or "", name, str(meta.get("uid")))
    return {names.stable_name(parsed, name, namespace): claim}


def _claims(index: Any) -> reconcile.Claims | None:
    return None if index is None else (lambda stable: list(index.get(stable, ())))


@kopf.daemon(GROUP, VERSION, PLURAL, registry=REGISTRY, id="reconcile", cancellation_timeout=5.0)
async def reconcile_loop(
    name: str, namespace: str | None, memo: Any, stopped: Any, logger: Logger, served_names: Any = None, **_: Any
) -> None:
    assert namespace is not None  # ClassifierModel is namespaced
    context = _context(memo)
    wake = context.wake(namespace, name)
    try:
        while not stopped:
            wake.clear()
            await reconcile_once(context, namespace, name, logger, _claims(served_names))
            # Sleep until woken, stopped (deletion, shutdown: kopf holds the finalizer until this
            # daemon exits, so it must notice at once) or the resync period is over.
            waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stopped.wait())]
            try:
                await asyncio.wait(waiters, timeout=context.settings.resync_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if not stopped:
                await asyncio.sleep(DEBOUNCE_S)  # coalesce bursts of watch events
    finally:
        context.wakes.pop((namespace, name), None)


async def reconcile_once(
    context: Context, namespace: str, name: str, logger: Logger, claims: reconcile.Claims | None = None
) -> None:
    metrics.RECONCILIATIONS.labels("reconcile").inc()
    started = time.perf_counter()
    body = None
    try:
        body = await asyncio.to_thread(context.kube.get_model, namespace, name)
        if body is None or body["metadata"].get("deletionTimestamp"):
            return
        outcome = await asyncio.to_thread(reconcile.reconcile, context.kube, body, context.settings, None, claims)
    except Exception as error:  # a failed pass is retried on the next wake-up or resync
        metrics.ERRORS.labels("reconcile").inc()
        logger.exception("reconciliation of %s/%s failed", namespace, name)
        if body is not None:
            kopf.warn(cast(Any, body), reason="ReconcileError", message=f"{type(error).__name__}: {error}"[:1024])
        return
    finally:
        metrics.DURATION.labels("reconcile").observe(time.perf_counter() - started)
    _post(body, outcome.events)


@kopf.on.event(GROUP, VERSION, PLURAL, registry=REGISTRY)
async def on_model_event(name: str, namespace: str | None, memo: Any, **_: Any) -> None:
    event = _context(memo).wakes.get((namespace or "", name))
    if event is not None:
        event.set()


@kopf.on.event("batch", "v1", "jobs", registry=REGISTRY, labels={"app.kubernetes.io/managed-by": jobs.MANAGED_BY})
async def on_job_event(namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    model = labels.get(jobs.LABEL_MODEL)
    event = _context(memo).wakes.get((namespace or "", model)) if model else None
    if event is not None:
        event.set()


@kopf.on.delete(GROUP, VERSION, PLURAL, registry=REGISTRY, id="cleanup")
async def on_delete(name: str, namespace: str | None, body: Any, memo: Any, served_names: Any = None, **_: Any) -> None:
    assert namespace is not None
    context = _context(memo)
    metrics.RECONCILIATIONS.labels("delete").inc()
    raw = {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "metadata": dict(body["metadata"]),
        "spec": dict(body.get("spec") or {}),
        "status": dict(body.get("status") or {}),
    }
    try:
        claims = _claims(served_names)
        events = await asyncio.to_thread(reconcile.cleanup, context.kube, raw, context.settings, claims)
    except Exception:
        metrics.ERRORS.labels("delete").inc()
        raise
    metrics.forget(namespace, name)
    _post(raw, events)
