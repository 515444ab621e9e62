"""``frontier operator``: run the kopf operator for ClassifierModels.

Flags override ``FRONTIER_OPERATOR_*`` variables (see ``settings``). Watches the given namespaces, or
all of them; runs standalone, or with ``--peering NAME`` as one of several replicas of which kopf keeps
one active (the KopfPeering CRD must be installed); serves ``/healthz`` for the liveness probe and
Prometheus metrics on ``--metrics-port``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import threading
from typing import Any, cast

from frontier.operator.settings import OperatorSettings, from_environment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "-n",
        "--namespace",
        action="append",
        dest="namespaces",
        metavar="NS",
        help="watch this namespace (repeatable); default: every namespace",
    )
    where.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    parser.add_argument("--worker-image", help="image of the training and benchmark Jobs")
    parser.add_argument("--service-account", help="service account of the Jobs' pods")
    parser.add_argument("--backoff-limit", type=int, help="Jobs' backoffLimit (default 1)")
    parser.add_argument("--train-deadline-s", type=int, help="training Jobs' activeDeadlineSeconds")
    parser.add_argument("--bench-deadline-s", type=int, help="benchmark Jobs' activeDeadlineSeconds")
    parser.add_argument("--artifacts", help="artifact root when spec.storage.artifacts is left out")
    parser.add_argument("--model-repository", help="Triton model repository when the spec leaves it out")
    parser.add_argument("--triton-endpoint", help="Triton HTTP endpoint when spec.serving.endpoint is left out")
    parser.add_argument("--resync-s", type=float, help="reconcile every model at least this often (default 30)")
    parser.add_argument("--peering", help="kopf peering name (several replicas, one active); default standalone")
    parser.add_argument("--priority", type=int, help="kopf peering priority (default: random when peering)")
    parser.add_argument("--liveness", help="liveness endpoint URL (default http://0.0.0.0:8081/healthz)")
    parser.add_argument("--metrics-port", type=int, help="Prometheus metrics port (default 8080; 0 disables)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then $KUBECONFIG)")


def settings_from(args: argparse.Namespace) -> OperatorSettings:
    overrides: dict[str, Any] = {
        key: getattr(args, key, None)
        for key in (
            "worker_image",
            "service_account",
            "backoff_limit",
            "train_deadline_s",
            "bench_deadline_s",
            "artifacts",
            "model_repository",
            "triton_endpoint",
            "resync_s",
            "peering",
            "priority",
            "liveness",
            "kubeconfig",
        )
    }
    if getattr(args, "namespaces", None):
        overrides["namespaces"] = tuple(args.namespaces)
    if getattr(args, "all_namespaces", False):
        overrides["namespaces"] = ()
    settings = from_environment(**overrides)
    if getattr(args, "metrics_port", None) is not None:
        settings = settings.with_(metrics_port=args.metrics_port or None)
    return settings


def peering_priority(settings: OperatorSettings) -> int | None:
    """The explicit priority, else a random one for a peered replica: kopf pauses every peer that
    shares its priority, so two replicas of one Deployment (same flags) must not both default to 0."""
    if settings.priority is not None or settings.peering is None:
        return settings.priority
    return random.SystemRandom().randint(1, 2**31 - 1)


async def operate(
    settings: OperatorSettings,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """The operator as a coroutine (``main`` runs it; tests run it in a thread with a stop flag)."""
    import kopf

    from frontier.operator.handlers import REGISTRY, Context
    from frontier.operator.k8s import Kube

    kube = Kube.connect(settings.kubeconfig)
    try:
        await kopf.operator(
            registry=REGISTRY,
            clusterwide=settings.clusterwide,
            namespaces=list(settings.namespaces),
            standalone=settings.peering is None,
            peering_name=settings.peering,
            priority=peering_priority(settings),
            identity=cast(Any, settings.identity),  # kopf's Identity is a NewType of str, not exported
            liveness_endpoint=settings.liveness,
            memo=kopf.Memo(frontier=Context(settings=settings, kube=kube)),
            stop_flag=stop_flag,
            ready_flag=ready_flag,
        )
    finally:
        kube.close()


def main(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from frontier.api.spec import unsupported_artifacts

    settings = settings_from(args)
    problem = unsupported_artifacts(settings.artifacts)
    if problem:  # every Job would write into a local directory named after the scheme
        print(f"frontier operator: --artifacts {settings.artifacts}: {problem}", file=sys.stderr)
        return 2
    if settings.metrics_port:
        from frontier.operator import metrics

        metrics.serve(settings.metrics_port)
    asyncio.run(operate(settings))
    return 0
