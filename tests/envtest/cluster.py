"""A real etcd + kube-apiserver for tests, as kubebuilder's envtest runs them: no kubelet, no
controller-manager, no scheduler — the API server, its validation (OpenAPI, CEL, list types) and RBAC.

The binaries come from ``.ci/build-envtest.sh`` (built from Go modules into a cache outside git).
``EnvtestCluster`` picks free loopback ports, generates a self-signed serving certificate and a
service-account key pair with the ``openssl`` CLI, writes a static token file whose ``admin`` user is
in ``system:masters``, starts both processes (each dies with its parent: PR_SET_PDEATHSIG), waits
for ``/readyz`` and writes a kubeconfig for the admin token. ``stop()`` terminates both and waits.

``request()`` is a tiny dependency-free HTTPS client for what the tests check at the wire level
(status codes, ``fieldValidation=Strict``, the Table API); the operator itself uses the kubernetes
client through ``frontier.operator.k8s``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

K8S_VERSION = "1.34.4"
ETCD_VERSION = "3.6.6"
REQUIRE_ENV = "FRONTIER_REQUIRE_ENVTEST"
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"


def binary_dir() -> Path:
    """Where ``.ci/build-envtest.sh`` puts the binaries (``FRONTIER_ENVTEST_BIN`` overrides)."""
    explicit = os.environ.get("FRONTIER_ENVTEST_BIN")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "frontier" / "envtest" / f"k8s-{K8S_VERSION}-etcd-{ETCD_VERSION}"


def missing_binaries() -> str | None:
    """None when etcd, kube-apiserver and openssl are all there; otherwise what is missing."""
    where = binary_dir()
    missing = [name for name in ("etcd", "kube-apiserver") if not os.access(where / name, os.X_OK)]
    if missing:
        return f"{', '.join(missing)} not built in {where}; run .ci/build-envtest.sh"
    if shutil.which("openssl") is None:
        return "the openssl CLI is needed to generate certificates"
    return None


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: the kernel kills it when the test process dies,
    however that happens (a crash, SIGKILL, a timeout), so no server outlives its tests."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body.get('message', body)}")
        self.status = status
        self.body = body

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list((self.body.get("details") or {}).get("causes") or [])


@dataclass
class EnvtestCluster:
    root: Path
    bin_dir: Path
    etcd_port: int = 0
    peer_port: int = 0
    api_port: int = 0
    token: str = ""
    _etcd: subprocess.Popen[bytes] | None = None
    _apiserver: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def ca_file(self) -> Path:
        return self.root / "pki" / "serving.crt"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    # ---------------------------------------------------------------------------- lifecycle

    @classmethod
    def create(cls, root: Path | None = None) -> EnvtestCluster:
        root = Path(root or tempfile.mkdtemp(prefix="frontier-envtest-"))
        return cls(root=root, bin_dir=binary_dir())

    def start(self, timeout: float = 90.0) -> EnvtestCluster:
        self._write_pki()
        self.etcd_port, self.peer_port, self.api_port = free_port(), free_port(), free_port()
        logs = self.root / "logs"
        logs.mkdir(exist_ok=True)
        self._etcd = self._spawn(
            [
                str(self.bin_dir / "etcd"),
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.peer_port}",
                f"--initial-cluster=default=http://127.0.0.1:{self.peer_port}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            logs / "etcd.log",
        )
        pki = self.root / "pki"
        self._apiserver = self._spawn(
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'serving.crt'}",
                f"--tls-private-key-file={pki / 'serving.key'}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-account-issuer=https://frontier-envtest.invalid",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                # Nothing runs the controllers that admission plugins expect (service accounts,
                # namespace lifecycle is kept: it is what refuses objects in a missing namespace).
                # PodSecurity stays on, as on every cluster since 1.25: namespaces made by
                # ensure_namespace enforce `restricted` (tests/envtest/test_pod_security.py).
                "--enable-admission-plugins=NamespaceLifecycle,PodSecurity",
                "--disable-admission-plugins=ServiceAccount,DefaultStorageClass,StorageObjectInUseProtection,"
                "PersistentVolumeClaimResize,DefaultTolerationSeconds,MutatingAdmissionWebhook,"
                "ValidatingAdmissionWebhook,ResourceQuota,Priority,RuntimeClass,CertificateApproval,"
                "CertificateSigning,CertificateSubjectRestriction,DefaultIngressClass,TaintNodesByCondition,"
                "LimitRanger,ClusterTrustBundleAttest",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                "--v=0",
            ],
            logs / "kube-apiserver.log",
        )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self._write_kubeconfig()
        return self

    def _spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as handle:
            return subprocess.Popen(
                argv,
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
                cwd=self.root,
            )

    def _write_pki(self) -> None:
        pki = self.root / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(pki / "serving.key"),
            "-out",
            str(pki / "serving.crt"),
        )
        _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
        _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
        self.token = secrets.token_hex(24)
        (pki / "tokens.csv").write_text(f'{self.token},admin,admin-uid,"system:masters"\n')

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, proc in (("etcd", self._etcd), ("kube-apiserver", self._apiserver)):
                if proc is not None and proc.poll() is not None:
                    tail = (self.root / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")
            try:
                status, body = self.raw("GET", "/readyz")
                if status == 200:
                    return
                last = f"{status} {body[:300]!r}"
            except OSError as error:
                last = str(error)
            time.sleep(0.25)
        raise TimeoutError(f"kube-apiserver not ready after {timeout:.0f}s: {last}")

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "envtest", "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)}}
            ],
            "users": [{"name": "admin", "user": {"token": self.token}}],
            "contexts": [{"name": "envtest", "context": {"cluster": "envtest", "user": "admin"}}],
            "current-context": "envtest",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the API server, then etcd; kill what does not exit in time. Idempotent."""
        for proc in (self._apiserver, self._etcd):
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._apiserver = self._etcd = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in (self._etcd, self._apiserver) if p is not None and p.poll() is None]

    # ---------------------------------------------------------------------------- requests

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def raw(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, context=self._context(), timeout=30) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """JSON in, JSON out; ApiError carries the server's Status for any non-2xx answer."""
        status, payload = self.raw(method, path, body, headers)
        decoded: dict[str, Any] = json.loads(payload) if payload else {}
        if status >= 300:
            raise ApiError(status, decoded)
        return decoded

    # ---------------------------------------------------------------------------- helpers

    def ensure_namespace(self, name: str, pod_security: str | None = "restricted") -> None:
        """Create a namespace (kept when it exists), enforcing the ``pod_security`` standard by default
        (``None``: no label, the cluster's default ``privileged``)."""
        labels = {} if pod_security is None else {POD_SECURITY_ENFORCE: pod_security}
        try:
            self.request(
                "POST",
                "/api/v1/namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
            )
        except ApiError as error:
            if error.status != 409:
                raise

    def apply_crd(self, document: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Create (or replace) a CRD and wait until it is Established and its resource is served."""
        name = document["metadata"]["name"]
        base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        try:
            self.request("POST", base, document)
        except ApiError as error:
            if error.status != 409:
                raise
            current = self.request("GET", f"{base}/{name}")
            replacement = dict(document)
            replacement["metadata"] = {
                **document["metadata"],
                "resourceVersion": current["metadata"]["resourceVersion"],
            }
            self.request("PUT", f"{base}/{name}", replacement)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            crd = self.request("GET", f"{base}/{name}")
            conditions = {c["type"]: c for c in (crd.get("status") or {}).get("conditions") or []}
            if conditions.get("NonStructuralSchema", {}).get("status") == "True":
                raise RuntimeError(f"CRD {name} is not structural: {conditions['NonStructuralSchema']['message']}")
            if conditions.get("Established", {}).get("status") == "True":
                group, version = crd["spec"]["group"], crd["spec"]["versions"][0]["name"]
                status, _ = self.raw("GET", f"/apis/{group}/{version}/{crd['spec']['names']['plural']}")
                if status == 200:
                    return crd
            time.sleep(0.1)
        raise TimeoutError(f"CRD {name} not Established after {timeout:.0f}s")


@contextlib.contextmanager
def running_cluster(directory: Path) -> Iterator[EnvtestCluster]:
    """A started cluster for a test fixture: skipped without binaries, failed instead when they are required."""
    import pytest

    reason = missing_binaries()
    if reason is not None:
        if required():
            pytest.fail(f"envtest required (FRONTIER_REQUIRE_ENVTEST=1) but {reason}")
        pytest.skip(reason)
    env = EnvtestCluster.create(directory)
    env.start()
    try:
        yield env
    finally:
        env.stop()
