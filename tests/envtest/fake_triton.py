"""A stand-in for Triton's HTTP API in explicit model-control mode: the routes ``TritonClient`` calls.

It keeps what a real Triton keeps in memory — which models are loaded, at which versions, with which config —
and records every call as ``(method, path, body)``. As in explicit mode, nothing is loaded at start or after
``restart()``, and a model's config is given only while it is loaded. Loading ``<m>__vN`` without an override
loads version N with a python-backend config; loading with a config override serves the versions its
``version_policy`` names. Routes: health, model (and version) readiness, the repository index, a model's
config, load (with or without an override) and unload.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

VERSION_MODEL = re.compile(r".+__v(\d+)$")


class FakeTriton:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.loaded: dict[str, list[int]] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"null")

            def do_GET(self) -> None:
                owner.calls.append(("GET", self.path, None))
                parts = self.path.strip("/").split("/")
                with owner.lock:
                    if parts == ["v2", "health", "ready"]:
                        self._reply(200, {})
                    elif len(parts) >= 4 and parts[:2] == ["v2", "models"]:
                        self._model_route(parts[2], parts[3:])
                    else:
                        self._reply(404, {"error": "not found"})

            def _model_route(self, name: str, rest: list[str]) -> None:
                versions = owner.loaded.get(name)
                if rest == ["config"] and versions:
                    self._reply(200, owner.configs[name])
                elif rest == ["config"]:
                    self._reply(400, {"error": f"Request for unknown model: '{name}' is not found"})
                elif rest == ["ready"]:
                    self._reply(200 if versions else 400, {})
                elif len(rest) == 3 and rest[0] == "versions" and rest[2] == "ready":
                    self._reply(200 if versions and rest[1].isdigit() and int(rest[1]) in versions else 400, {})
                else:
                    self._reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = self._body()
                owner.calls.append(("POST", self.path, body))
                parts = self.path.strip("/").split("/")
                with owner.lock:
                    if self.path == "/v2/repository/index":
                        index = [
                            {"name": n, "version": str(v), "state": "READY"}
                            for n, vs in owner.loaded.items()
                            for v in vs
                        ]
                        self._reply(200, index)
                    elif len(parts) == 5 and parts[:3] == ["v2", "repository", "models"]:
                        self._repository_route(parts[3], parts[4], body or {})
                    else:
                        self._reply(404, {"error": "not found"})

            def _repository_route(self, name: str, action: str, body: dict[str, Any]) -> None:
                if action == "unload":
                    owner.loaded.pop(name, None)
                    owner.configs.pop(name, None)
                    self._reply(200, {})
                    return
                override = (body.get("parameters") or {}).get("config")
                if override:
                    config = json.loads(override)
                    versions = list(config["version_policy"]["specific"]["versions"])
                elif match := VERSION_MODEL.fullmatch(name):
                    versions = [int(match.group(1))]
                    config = {
                        "name": name,
                        "backend": "python",
                        "max_batch_size": 32,
                        "version_policy": {"latest": {"num_versions": 1}},
                    }
                else:
                    self._reply(400, {"error": f"failed to load '{name}': no config in the stand-in"})
                    return
                owner.loaded[name] = versions
                owner.configs[name] = config
                self._reply(200, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def restart(self) -> None:
        """What a restarted Triton in explicit mode serves: nothing."""
        with self.lock:
            self.loaded.clear()
            self.configs.clear()

    def __enter__(self) -> FakeTriton:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
