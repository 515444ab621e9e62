"""Frontier's one Triton client: health, the repository API, promotion of the stable name, inference.

Both executors use it: the operator (``frontier.operator.world`` observes what the stable name serves,
``frontier.operator.reconcile`` promotes and unloads) and the local runtime (``frontier.serving.local``,
``frontier.serving.swap``). Stdlib HTTP only, one connection per call, no state shared between calls: safe
from any thread (kopf's executor, ``asyncio.to_thread``). tritonclient's own HTTP client is gevent-based
and refuses a thread other than its creator's, so only inference borrows tritonclient, to build and parse
the binary tensor bodies; tritonclient and numpy are imported by inference alone, which keeps the operator
free of them (``tests/test_light_imports.py``).

Every call has a total deadline, not a per-read timeout: the socket's timeout is re-armed to the time left
before each send and receive, and a call past its deadline fails, so a server that drips a byte every
half second cannot hold a 1 s call for longer than about 1 s (a per-read timeout would wait forever).
(Name resolution is the one step outside it: ``getaddrinfo`` takes no timeout.)
Queries (health, index, config) get ``query_timeout_s``; loads, unloads and inference ``timeout_s``.
Any failure — refused, timed out, an HTTP error, a reply that is not the JSON expected — is a
``ServingError``, never another exception: the operator reports it (``TritonUnavailable``) and retries.

Promotion (``promote``), one strategy for both executors. Every version N is its own model ``<m>__vN``
(benchmark traffic calls it by name); clients call the stable name ``<m>``. To make ``<m>`` serve N:

1. make sure ``<m>__vN`` is loaded (after a Triton restart nothing is: explicit model-control mode loads
   nothing by itself; for the onnxruntime backend ``<m>__vN`` is an ensemble and loading it loads its
   composing models);
2. read its config (``GET /v2/models/<m>__vN/config``; explicit mode gives the config of loaded models
   only, hence step 1);
3. load ``<m>`` with that config as an override, renamed to ``<m>`` and restricted to
   ``version_policy { specific { versions: [N] } }``;
4. wait until the stable name's READY versions are exactly ``[N]``.

Triton finds the files under ``<m>/N``, which ``ModelRepository.publish`` makes with the version (a link
to ``<m>__vN/N``, or an ensemble's empty directory). So promotion needs no access to the repository volume
— the operator has none — and writes no file: what the stable name serves is decided by the controller's
status, not by a config file on the volume.

Why it is zero-error (``tests/serving/test_triton.py`` hammers ``<m>`` with concurrent requests through
promote → rollback → promote and counts failures): in explicit mode, loading a loaded model loads the new
version set first while the old one keeps serving, and retires the old version only once the new one is
READY, after its in-flight requests complete. A request without a version goes to a READY version
throughout; if the new version fails to load, the load fails and the old version keeps serving.

Why it survives a Triton restart: the config override lives only in Triton's memory, so a restarted Triton
serves nothing under ``<m>``. Both executors are level-triggered: they observe ``served_version`` on every
pass, and the planner emits a Promote whenever the stable name does not serve exactly the promoted
version; step 1 then loads the version's own model again. Re-promoting what is already served is a no-op
for the executor (the planner emits nothing).
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from frontier.api.names import version_model
from frontier.errors import ServingError
from frontier.serving.configs import LABEL, PROBABILITIES, PROBABILITY, TEXT

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

    from frontier.serving.repository import ModelRepository

TIMEOUT_S = 120.0
"""Total deadline of a load, an unload or an inference call (loading a model can take a while)."""
QUERY_TIMEOUT_S = 10.0
"""Total deadline of a query: health, repository index, model config."""
MAX_REPLY_BYTES = 64 << 20
"""A longer reply is refused (a broken or hostile endpoint cannot fill the operator's memory)."""
POLL_S = 0.05


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float
    probabilities: list[float]


@dataclass(frozen=True)
class Swap:
    """One promotion: ``model`` serves ``version`` now; it served ``previous`` before (None: nothing)."""

    model: str
    version: int
    previous: int | None
    seconds: float


def text_input(texts: list[str], module: Any) -> Any:
    """An ``InferInput`` named TEXT, shape [batch, 1], BYTES; ``module`` is tritonclient.http or .grpc."""
    import numpy as np

    array = np.array([t.encode("utf-8") for t in texts], dtype=np.object_).reshape(-1, 1)
    tensor = module.InferInput(TEXT, list(array.shape), "BYTES")
    tensor.set_data_from_numpy(array)
    return tensor


def predictions_from(result: Any) -> list[Prediction]:
    labels = result.as_numpy(LABEL).reshape(-1)
    best = result.as_numpy(PROBABILITY).reshape(-1)
    every = result.as_numpy(PROBABILITIES)
    return [
        Prediction(
            label=label.decode("utf-8") if isinstance(label, bytes) else str(label),
            probability=float(p),
            probabilities=[float(x) for x in row],
        )
        for label, p, row in zip(labels, best, every, strict=True)
    ]


# ------------------------------------------------------------------------------------------- transport
class _DeadlineSocket(socket.socket):
    """A connected socket whose every send and receive gets only the time left before ``deadline``."""

    deadline: float

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded")
        self.settimeout(left)

    def recv(self, bufsize: int, flags: int = 0, /) -> bytes:
        self._arm()
        return super().recv(bufsize, flags)

    def recv_into(self, buffer: WriteableBuffer, nbytes: int = 0, flags: int = 0, /) -> int:
        self._arm()
        return super().recv_into(buffer, nbytes, flags)

    def sendall(self, data: ReadableBuffer, flags: int = 0, /) -> None:
        self._arm()
        super().sendall(data, flags)


class _Connection(http.client.HTTPConnection):
    """``http.client`` over a ``_DeadlineSocket``: the status line, headers and body all share one deadline."""

    def __init__(self, host: str, port: int, deadline: float) -> None:
        super().__init__(host, port, timeout=max(deadline - time.monotonic(), 0.001))
        self.deadline = deadline

    def connect(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded before connecting")
        raw = socket.create_connection((self.host, self.port), timeout=left)
        sock = _DeadlineSocket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        sock.deadline = self.deadline
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock


def address(url: str) -> tuple[str, int, str]:
    """``(host, port, path prefix)`` of ``host:port`` or ``http://host:port[/prefix]``."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port or 80
    except ValueError as error:
        raise ServingError(f"Triton endpoint {url!r} is not host:port or http://host:port: {error}") from None
    if parts.scheme != "http" or not parts.hostname:
        raise ServingError(f"Triton endpoint {url!r}: only http://host:port is supported")
    return parts.hostname, port, parts.path.rstrip("/")


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


# -------------------------------------------------------------------------------------------- client
class TritonClient:
    """A synchronous client for one Triton server's HTTP endpoint (``host:port`` or ``http://host:port``).

    ``timeout_s``: total deadline of a load, unload or inference call; ``query_timeout_s``: of a health,
    index or config query (at most ``timeout_s``).
    """

    def __init__(self, url: str, timeout_s: float = TIMEOUT_S, query_timeout_s: float = QUERY_TIMEOUT_S) -> None:
        self.host, self.port, self.prefix = address(url)
        self.url = f"{self.host}:{self.port}{self.prefix}"
        self.timeout_s = timeout_s
        self.query_timeout_s = min(query_timeout_s, timeout_s)

    def close(self) -> None:
        """Nothing to release (no connection is kept); here for symmetry."""

    def __enter__(self) -> TritonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ HTTP
    def _request(
        self,
        what: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        """``(status, body, headers)`` of one call, all of it within the deadline; transport failures raise."""
        deadline = time.monotonic() + (self.query_timeout_s if timeout_s is None else timeout_s)
        connection = _Connection(self.host, self.port, deadline)
        sent = dict(headers or {})  # keep-alive: we close first, so TIME_WAIT stays on our side, not Triton's
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request("GET" if body is None else "POST", self.prefix + path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read(MAX_REPLY_BYTES + 1)
            if len(data) > MAX_REPLY_BYTES:
                raise ServingError(f"Triton at {self.url}: {what}: the reply is longer than {MAX_REPLY_BYTES} bytes")
            return response.status, data, {k.lower(): v for k, v in response.getheaders()}
        except TimeoutError:
            budget = self.query_timeout_s if timeout_s is None else timeout_s
            raise ServingError(f"Triton at {self.url}: {what} failed: no complete reply within {budget:g} s") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ServingError(f"Triton at {self.url}: {what} failed: {error or type(error).__name__}") from None
        finally:
            connection.close()

    def _call(
        self,
        what: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a successful (2xx) call; anything else is a ``ServingError``."""
        status, data, answer_headers = self._request(what, path, body, headers, timeout_s)
        if not 200 <= status < 300:
            detail = data.decode("utf-8", "replace").strip()
            try:
                parsed = json.loads(data)
                if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
                    detail = parsed["error"]
            except ValueError:
                pass
            raise ServingError(f"Triton at {self.url}: {what} failed: HTTP {status}: {detail[:500]}")
        return data, answer_headers

    def _json(self, what: str, path: str, payload: Any = None, timeout_s: float | None = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode()
        data, _ = self._call(what, path, body, timeout_s=timeout_s)
        if not data.strip():
            return None
        try:
            return json.loads(data)
        except ValueError:
            text = data[:200].decode("utf-8", "replace")
            raise ServingError(f"Triton at {self.url}: {what}: the reply is not JSON: {text!r}") from None

    def _ready(self, path: str) -> bool:
        """True on 200, False on another HTTP status; a transport failure raises ``ServingError``."""
        status, _, _ = self._request("readiness", path)
        return status == 200

    # ---------------------------------------------------------------------------- health
    def server_ready(self) -> bool:
        try:
            return self._ready("/v2/health/ready")
        except ServingError:
            return False

    def model_ready(self, name: str, version: int | None = None) -> bool:
        try:
            return self._ready(self._model_path(name, version) + "/ready")
        except ServingError:
            return False

    def repository_index(self) -> list[dict[str, Any]]:
        index = self._json("repository index", "/v2/repository/index", {})
        if index is None:
            return []
        if not isinstance(index, list) or not all(isinstance(entry, dict) for entry in index):
            raise ServingError(f"Triton at {self.url}: the repository index is not a list of models: {index!r:.200}")
        return index

    def loaded_versions(self, name: str) -> list[int]:
        """Versions of ``name`` Triton reports READY."""
        versions = []
        for entry in self.repository_index():
            if entry.get("name") != name or entry.get("state") != "READY" or not entry.get("version"):
                continue
            try:
                versions.append(int(entry["version"]))
            except (TypeError, ValueError):
                raise ServingError(f"Triton at {self.url}: {name} has a READY version {entry['version']!r}") from None
        return sorted(versions)

    def served_version(self, model_name: str) -> int | None:
        """The one version the stable name serves; None when it serves none, or more than one."""
        versions = self.loaded_versions(model_name)
        return versions[0] if len(versions) == 1 else None

    def model_config(self, name: str) -> dict[str, Any]:
        """The config of a loaded model (explicit mode answers for loaded models only)."""
        config = self._json(f"config of {name}", f"/v2/models/{_quote(name)}/config")
        if not isinstance(config, dict) or not config:
            raise ServingError(f"Triton at {self.url}: the config of {name} is not a model config: {config!r:.200}")
        return config

    # ------------------------------------------------------------------------- lifecycle
    def load(self, name: str, config: str | Mapping[str, Any] | None = None) -> None:
        """Load (or reload) ``name``; ``config`` is an optional ModelConfig override (JSON text or a mapping)."""
        payload: dict[str, Any] = {}
        if config:
            payload = {"parameters": {"config": config if isinstance(config, str) else json.dumps(config)}}
        self._call(
            f"loading {name}",
            f"/v2/repository/models/{_quote(name)}/load",
            json.dumps(payload).encode(),
            timeout_s=self.timeout_s,
        )

    def unload(self, name: str, *, dependents: bool = False, wait_s: float = 30.0) -> None:
        """Unload ``name`` (``dependents``: an ensemble's composing models too); waits up to ``wait_s`` until
        it is no longer ready (Triton retires a model after its in-flight requests)."""
        payload = {"parameters": {"unload_dependents": dependents}}
        self._call(
            f"unloading {name}",
            f"/v2/repository/models/{_quote(name)}/unload",
            json.dumps(payload).encode(),
            timeout_s=self.timeout_s,
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and self.model_ready(name):
            time.sleep(POLL_S)

    def unload_all(self, names: Iterable[str], *, dependents: bool = True) -> None:
        """Unload every model of ``names`` without waiting (the operator's cleanup of a deleted model)."""
        for name in names:
            self.unload(name, dependents=dependents, wait_s=0.0)

    def load_version(self, repository: ModelRepository, version: int) -> str:
        """Verify and load the model serving exactly ``version``; returns its Triton name.

        Re-hashes the published files first (``ModelRepository.verify_version``): a file changed on the
        volume after publishing is refused, not served."""
        repository.verify_version(version)
        for name in repository.models_of(version):
            self.load(name)
        return repository.version_model(version)

    def unload_version(self, repository: ModelRepository, version: int) -> None:
        for name in reversed(repository.models_of(version)):
            self.unload(name)

    # ------------------------------------------------------------------------- promotion
    def promote(self, model_name: str, version: int, wait_s: float = 60.0) -> Swap:
        """Make the stable name ``model_name`` serve ``version``, and only it (see the module's docstring)."""
        started = time.monotonic()
        own = version_model(model_name, version)
        previous = self.served_version(model_name)
        if not self._ready(self._model_path(own, version) + "/ready"):
            self.load(own)  # after a restart: nothing is loaded; an ensemble loads its composing models
        config = self.model_config(own)
        stable = {**config, "name": model_name, "version_policy": {"specific": {"versions": [version]}}}
        self.load(model_name, stable)
        deadline = time.monotonic() + wait_s
        while True:
            ready = self.loaded_versions(model_name)
            if ready == [version]:
                return Swap(model_name, version, previous, time.monotonic() - started)
            if time.monotonic() >= deadline:
                raise ServingError(
                    f"Triton at {self.url}: {model_name} still does not serve only version {version} "
                    f"after {wait_s:g} s (ready: {ready})"
                )
            time.sleep(POLL_S)

    # ------------------------------------------------------------------------- inference
    def infer(self, name: str, texts: list[str], version: int | None = None, batch_size: int = 8) -> list[Prediction]:
        """Predictions for ``texts``, sent ``batch_size`` at a time (at most the model's max_batch_size)."""
        out: list[Prediction] = []
        for start in range(0, len(texts), batch_size):
            out.extend(self._infer(name, texts[start : start + batch_size], version))
        return out

    def _infer(self, name: str, texts: list[str], version: int | None) -> list[Prediction]:
        import tritonclient.http as http

        outputs = [http.InferRequestedOutput(o, binary_data=True) for o in (LABEL, PROBABILITY, PROBABILITIES)]
        body, header_length = http.InferenceServerClient.generate_request_body([text_input(texts, http)], outputs)
        headers = {"Content-Type": "application/octet-stream"}
        if header_length is not None:
            headers["Inference-Header-Content-Length"] = str(header_length)
        answer, answer_headers = self._call(
            f"inference on {name}", self._model_path(name, version) + "/infer", body, headers, self.timeout_s
        )
        length = answer_headers.get("inference-header-content-length")
        try:
            result = http.InferenceServerClient.parse_response_body(
                answer, header_length=int(length) if length else None
            )
            return predictions_from(result)
        except Exception as error:  # tritonclient's parsing raises whatever it meets
            raise ServingError(f"Triton at {self.url}: inference on {name}: unreadable reply: {error}") from None

    @staticmethod
    def _model_path(name: str, version: int | None) -> str:
        suffix = "" if version is None else f"/versions/{version}"
        return f"/v2/models/{_quote(name)}{suffix}"
