"""Pure builders of what the operator creates: batch/v1 Jobs, their ConfigMaps and names. No I/O.

Names are deterministic (``<model>-<candidate>-g<generation>-<tag>-train``, ``<model>-g<generation>-<tag>-bench``),
so a restarted operator finds the Jobs it created instead of creating them twice. ``<tag>`` is a short
hash of the owner's uid: ``sentiment-fast``/``minilm`` and ``sentiment``/``fast-minilm`` would otherwise
both be ``sentiment-fast-minilm-g1-train``, and a re-created resource would find its predecessor's Jobs.
A name longer than 63 characters keeps its suffix and trades the tail of its prefix for a hash.

Each Job reports its result in a ConfigMap *of the same name* (key ``result.json``; see
``frontier.results``), which the operator creates empty before the Job: no kubelet or
termination message is needed, and a test can play the Job by writing that ConfigMap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from frontier.api import API_VERSION, KIND
from frontier.api.names import baseline_api_key_variable
from frontier.api.spec import CandidateSpec, ClassifierModelSpec
from frontier.decision.work import Contender
from frontier.operator.settings import OperatorSettings
from frontier.results import ENV_RESULT_CONFIGMAP, ENV_RESULT_NAMESPACE

MANAGED_BY = "frontier"
LABEL_MODEL = "frontier.dev/model"
LABEL_ROLE = "frontier.dev/role"  # train | bench | baseline | manifest | result | identity | purge
LABEL_CANDIDATE = "frontier.dev/candidate"
LABEL_GENERATION = "frontier.dev/generation"
LABEL_VERSION = "frontier.dev/version"
LABEL_JOB = "frontier.dev/job"
LABEL_BASELINE = "frontier.dev/baseline"
LABEL_DIGEST = "frontier.dev/digest"
MANIFEST_DIR = "/etc/frontier"
MANIFEST_FILE = f"{MANIFEST_DIR}/manifest.yaml"
PVC_MOUNT = "/frontier"
CHECKPOINTS_SUFFIX = ".checkpoints"
"""A training Job's checkpoints live at ``<artifact>.checkpoints``, beside the artifact it publishes."""


@dataclass(frozen=True)
class Target:
    """The ClassifierModel the objects belong to."""

    name: str
    namespace: str
    uid: str
    generation: int


def dns_name(prefix: str, suffix: str, limit: int = 63) -> str:
    """``prefix-suffix``, shortened to ``limit`` with a hash of the full name when too long."""
    full = f"{prefix}-{suffix}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    keep = limit - len(suffix) - len(digest) - 2
    return f"{prefix[:keep].rstrip('-')}-{digest}-{suffix}"


def tag(uid: str) -> str:
    """Five hex digits of the owner's uid: what keeps two resources' object names apart."""
    return hashlib.sha256(uid.encode()).hexdigest()[:5]


def train_job_name(target: Target, candidate: str, generation: int) -> str:
    return dns_name(f"{target.name}-{candidate}", f"g{generation}-{tag(target.uid)}-train")


def bench_job_name(target: Target, generation: int) -> str:
    return dns_name(target.name, f"g{generation}-{tag(target.uid)}-bench")


def baseline_job_name(target: Target, baseline: str, digest: str) -> str:
    return dns_name(f"{target.name}-{baseline}", f"{digest[:8]}-{tag(target.uid)}-baseline")


def manifest_name(target: Target, generation: int) -> str:
    return dns_name(target.name, f"g{generation}-{tag(target.uid)}-manifest")


def artifact_uri(root: str, target: Target, candidate: str, generation: int) -> str:
    return f"{incarnation_root(root, target)}/g{generation}/{candidate}"


def incarnation_root(root: str, target: Target) -> str:
    """Where one incarnation of a resource keeps its artifacts: a resource deleted and created again under
    the same name never reads or overwrites its predecessor's (retained) artifacts."""
    return f"{root.rstrip('/')}/{target.namespace}/{target.name}/{target.uid}"


def artifact_root(spec: ClassifierModelSpec, settings: OperatorSettings) -> str:
    return spec.storage.artifacts or settings.artifacts


def labels(target: Target, role: str, **extra: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": "frontier",
        LABEL_MODEL: target.name,
        LABEL_ROLE: role,
        **extra,
    }


def owned_by(obj: dict[str, Any], target: Target) -> bool:
    """Whether ``target`` (this incarnation, by uid) controls ``obj``."""
    references = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == target.uid and r.get("controller") for r in references)


def owner_reference(target: Target) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": target.name,
        "uid": target.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(target: Target, name: str, role: str, **extra: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": target.namespace,
        "labels": labels(target, role, **extra),
        "ownerReferences": [owner_reference(target)],
    }


def manifest_configmap(target: Target, spec: ClassifierModelSpec, generation: int) -> dict[str, Any]:
    """The spec of one generation, mounted read-only into that generation's Jobs."""
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": target.name, "namespace": target.namespace, "generation": generation},
        "spec": spec.to_wire(),
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(
            target, manifest_name(target, generation), "manifest", **{LABEL_GENERATION: str(generation)}
        ),
        "data": {"manifest.yaml": yaml.safe_dump(document, sort_keys=False)},
    }


def result_configmap(target: Target, job_name: str, role: str) -> dict[str, Any]:
    """The empty ConfigMap a Job writes its ``result.json`` into."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(target, job_name, "result", **{"frontier.dev/job-role": role}),
        "data": {},
    }


def job_identity_name(job_name: str) -> str:
    """The ServiceAccount (and its Role and RoleBinding) a Job runs as: the Job's own name."""
    return job_name


def job_identity(target: Target, job_name: str) -> list[dict[str, Any]]:
    """A ServiceAccount, a Role and a RoleBinding that let the Job ``job_name`` read and patch its own result
    ConfigMap and nothing else, owned by the model (garbage-collected with it). Created before the Job,
    whose pods run as that ServiceAccount: one Job can never overwrite another's result."""
    name = job_identity_name(job_name)

    def metadata() -> dict[str, Any]:
        return _metadata(target, name, "identity", **{LABEL_JOB: job_name})

    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata()},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(),
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [job_name], "verbs": ["get", "patch"]}
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": target.namespace}],
        },
    ]


SCRATCH_DIR = "/tmp"
"""The one writable place in a Job's container besides the artifact store (an emptyDir): the root file
system is read-only, so HOME and every library cache point under it."""
SCRATCH_ENV = {
    "HOME": SCRATCH_DIR,
    "TMPDIR": SCRATCH_DIR,
    "XDG_CACHE_HOME": f"{SCRATCH_DIR}/.cache",
    "HF_HOME": f"{SCRATCH_DIR}/.cache/huggingface",
    "TORCH_HOME": f"{SCRATCH_DIR}/.cache/torch",
    "MPLCONFIGDIR": f"{SCRATCH_DIR}/.config/matplotlib",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def pod_security_context(settings: OperatorSettings) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": settings.run_as_user,
        "runAsGroup": settings.run_as_group,
        "fsGroup": settings.fs_group,
        # A large PVC is not re-chowned on every mount, only when its root does not match.
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def restricted(pod_spec: dict[str, Any], settings: OperatorSettings, *, token: bool) -> dict[str, Any]:
    """``pod_spec`` made admissible under the ``restricted`` Pod Security Standard: non-root, seccomp
    RuntimeDefault, no privilege escalation, no capabilities, a read-only root file system with an emptyDir
    at ``SCRATCH_DIR``; a service-account token only when the pod uses one (``token``). Returns it."""
    pod_spec["securityContext"] = pod_security_context(settings)
    pod_spec["automountServiceAccountToken"] = token
    pod_spec.setdefault("volumes", []).append({"name": "scratch", "emptyDir": {}})
    for container in pod_spec["containers"]:
        container["securityContext"] = {**CONTAINER_SECURITY_CONTEXT, "capabilities": {"drop": ["ALL"]}}
        container.setdefault("volumeMounts", []).append({"name": "scratch", "mountPath": SCRATCH_DIR})
        env = container.setdefault("env", [])
        env += [{"name": k, "value": v} for k, v in SCRATCH_ENV.items() if k not in {e["name"] for e in env}]
    return pod_spec


def _resources(candidate: CandidateSpec | None) -> dict[str, Any]:
    if candidate is None:
        return {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    r = candidate.resources
    requests: dict[str, str] = {"cpu": r.cpu, "memory": r.memory}
    limits: dict[str, str] = {"memory": r.memory}
    if r.gpu:
        requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = str(r.gpu)
    return {"requests": requests, "limits": limits}


def _storage(spec: ClassifierModelSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, volumeMounts, envFrom) for the artifact store."""
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    env_from: list[dict[str, Any]] = []
    if spec.storage.pvc:
        volumes.append({"name": "frontier-data", "persistentVolumeClaim": {"claimName": spec.storage.pvc}})
        mounts.append({"name": "frontier-data", "mountPath": PVC_MOUNT})
    if spec.storage.credentials_secret:
        env_from.append({"secretRef": {"name": spec.storage.credentials_secret}})
    return volumes, mounts, env_from


EXIT_BAD_INPUT = 2
"""The workloads' exit code for bad input (the manifest, the candidate, the data): no retry can fix it."""


def pod_failure_policy(container: str) -> dict[str, Any]:
    """Fail the Job at once on bad input (``EXIT_BAD_INPUT``) instead of retrying it ``backoffLimit`` times;
    a disrupted pod (preempted, evicted, its node drained) is retried without counting against
    ``backoffLimit`` (a training pod checkpoints on SIGTERM and its retry resumes). Other failures (exit 1)
    count. Kubernetes requires ``restartPolicy: Never`` with it, which every Frontier Job has."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": container, "operator": "In", "values": [EXIT_BAD_INPUT]},
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]
    }


def _job(
    target: Target,
    spec: ClassifierModelSpec,
    settings: OperatorSettings,
    *,
    name: str,
    role: str,
    generation: int,
    command: list[str],
    candidate: CandidateSpec | None,
    deadline_s: int,
    extra_labels: dict[str, str],
) -> dict[str, Any]:
    volumes, mounts, env_from = _storage(spec)
    volumes.append({"name": "manifest", "configMap": {"name": manifest_name(target, generation)}})
    mounts.append({"name": "manifest", "mountPath": MANIFEST_DIR, "readOnly": True})
    env = [
        {"name": ENV_RESULT_CONFIGMAP, "value": name},
        {"name": ENV_RESULT_NAMESPACE, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "PYTHONUNBUFFERED", "value": "1"},
    ]
    job_labels = labels(target, role, **{LABEL_GENERATION: str(generation)}, **extra_labels)
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [
            {
                "name": role,
                "image": (candidate.image if candidate and candidate.image else settings.worker_image),
                "imagePullPolicy": settings.image_pull_policy,
                "command": command,
                "env": env,
                "envFrom": env_from,
                "resources": _resources(candidate),
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    pod_spec["serviceAccountName"] = settings.service_account or job_identity_name(name)
    restricted(pod_spec, settings, token=True)  # its token writes the result ConfigMap
    if candidate is not None:
        if candidate.resources.node_selector:
            pod_spec["nodeSelector"] = dict(candidate.resources.node_selector)
        if candidate.resources.tolerations:
            pod_spec["tolerations"] = [t.to_wire() for t in candidate.resources.tolerations]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {**_metadata(target, name, role), "labels": job_labels},
        "spec": {
            "backoffLimit": settings.backoff_limit,
            "activeDeadlineSeconds": deadline_s,
            "podFailurePolicy": pod_failure_policy(role),
            "template": {"metadata": {"labels": job_labels}, "spec": pod_spec},
            # The declared retention: the Job controller deletes a finished Job (its pods, its logs) after
            # this long; what it produced is in status and its result ConfigMap.
            **({"ttlSecondsAfterFinished": settings.job_retention_s} if settings.job_retention_s else {}),
        },
    }


def train_job(
    target: Target, spec: ClassifierModelSpec, candidate: CandidateSpec, settings: OperatorSettings
) -> dict[str, Any]:
    generation = target.generation
    out = artifact_uri(artifact_root(spec, settings), target, candidate.name, generation)
    # A retried pod (preempted, or failed with exit 1) resumes from the checkpoint its predecessor left
    # beside the artifact on the shared volume; without one, --resume starts afresh.
    command = ["frontier", "train", "--manifest", MANIFEST_FILE, "--candidate", candidate.name]
    command += ["--checkpoint-dir", f"{out}{CHECKPOINTS_SUFFIX}", "--resume", "--out", out]
    return _job(
        target,
        spec,
        settings,
        name=train_job_name(target, candidate.name, generation),
        role="train",
        generation=generation,
        command=command,
        candidate=candidate,
        deadline_s=settings.train_deadline_s,
        extra_labels={LABEL_CANDIDATE: candidate.name},
    )


def bench_job(
    target: Target,
    spec: ClassifierModelSpec,
    generation: int,
    contenders: Sequence[Contender],
    settings: OperatorSettings,
    discard: Sequence[int] = (),
) -> dict[str, Any]:
    """One Job measures a generation's versions and the promoted one together (interleaved rounds on
    one Triton and one load generator); each contender names the exact artifact it publishes."""
    command = [
        "frontier",
        "bench",
        "--manifest",
        MANIFEST_FILE,
        "--model-repository",
        spec.serving.model_repository or settings.model_repository,
        "--owner",
        target.uid,
    ]
    for contender in contenders:
        command += ["--contender", json.dumps(contender.to_wire(), sort_keys=True, separators=(",", ":"))]
    for version in discard:
        command += ["--discard", str(version)]
    endpoint = spec.serving.endpoint or settings.triton_endpoint
    if endpoint:
        command += ["--endpoint", endpoint]
    return _job(
        target,
        spec,
        settings,
        name=bench_job_name(target, generation),
        role="bench",
        generation=generation,
        command=command,
        candidate=None,
        deadline_s=settings.bench_deadline_s,
        extra_labels={},
    )


def baseline_job(
    target: Target, spec: ClassifierModelSpec, baseline: str, digest: str, generation: int, settings: OperatorSettings
) -> dict[str, Any]:
    """One Job asks an ``llm`` baseline's endpoint about the eval rows. Its API key comes from the Secret the
    baseline names, as an *optional* reference: a missing Secret lets the pod start, and ``frontier baseline``
    fails with CredentialsMissing published as its result, a message in status rather than a pod stuck in
    CreateContainerConfigError."""
    spec_of = next(b for b in spec.baselines if b.name == baseline)
    assert spec_of.llm is not None
    job = _job(
        target,
        spec,
        settings,
        name=baseline_job_name(target, baseline, digest),
        role="baseline",
        generation=generation,
        command=["frontier", "baseline", "--manifest", MANIFEST_FILE, "--name", baseline],
        candidate=None,
        deadline_s=settings.bench_deadline_s,
        extra_labels={LABEL_BASELINE: baseline, LABEL_DIGEST: digest},
    )
    credentials = spec_of.llm.credentials
    if credentials is not None:
        reference = {"name": credentials.name, "key": credentials.key, "optional": True}
        container = job["spec"]["template"]["spec"]["containers"][0]
        container["env"].append({"name": baseline_api_key_variable(baseline), "valueFrom": {"secretKeyRef": reference}})
    return job


def purge_job(target: Target, spec: ClassifierModelSpec, settings: OperatorSettings) -> dict[str, Any]:
    """Deletes the model's artifacts (``retainOnDelete: false``). Not owned by the model, which is
    going away (the garbage collector would delete the Job with it); it cleans itself up after an hour."""
    root = incarnation_root(artifact_root(spec, settings), target)
    volumes, mounts, env_from = _storage(spec)
    job_labels = labels(target, "purge")
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": dns_name(target.name, f"{target.uid[:8]}-purge"),
            "namespace": target.namespace,
            "labels": job_labels,
        },
        "spec": {
            "backoffLimit": settings.backoff_limit,
            "activeDeadlineSeconds": 600,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "Never",
                    **({"serviceAccountName": settings.service_account} if settings.service_account else {}),
                    "containers": [
                        {
                            "name": "purge",
                            "image": settings.worker_image,
                            "imagePullPolicy": settings.image_pull_policy,
                            "command": ["python", "-m", "frontier.operator.purge", root],
                            "envFrom": env_from,
                            "volumeMounts": mounts,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                        }
                    ],
                    "volumes": volumes,
                },
            },
        },
    }
    restricted(job["spec"]["template"]["spec"], settings, token=False)  # it deletes files, calls no API
    return job
