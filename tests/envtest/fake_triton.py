"""A stand-in for Triton's HTTP repository API (the few routes the operator calls), recording calls."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeTriton:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.loaded: dict[str, list[int]] = {}
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
                if len(parts) == 4 and parts[:2] == ["v2", "models"] and parts[3] == "config":
                    self._reply(200, {"name": parts[2], "backend": "python", "max_batch_size": 32})
                else:
                    self._reply(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = self._body()
                owner.calls.append(("POST", self.path, body))
                parts = self.path.strip("/").split("/")
                if self.path == "/v2/repository/index":
                    index = [
                        {"name": n, "version": str(v), "state": "READY"} for n, vs in owner.loaded.items() for v in vs
                    ]
                    self._reply(200, index)
                elif len(parts) == 5 and parts[:3] == ["v2", "repository", "models"]:
                    name, action = parts[3], parts[4]
                    if action == "load":
                        config = json.loads(body["parameters"]["config"])
                        owner.loaded[name] = list(config["version_policy"]["specific"]["versions"])
                    else:
                        owner.loaded.pop(name, None)
                    self._reply(200, {})
                else:
                    self._reply(404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeTriton:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
