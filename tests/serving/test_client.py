"""The Triton client without a Triton: total deadlines, replies that are not Triton's, and promotion's calls.

A tarpit on loopback drips bytes slowly (the status line, or the body after honest headers); a call must
fail with ``ServingError`` within its deadline and a small margin, not per read. The promotion tests run
against the explicit-mode stand-in of ``tests/envtest/fake_triton.py`` and check the calls it records.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from frontier.errors import ServingError
from frontier.serving.client import TritonClient
from tests.envtest.fake_triton import FakeTriton

MARGIN_S = 0.5


@contextmanager
def raw_server(answer: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback TCP server that reads each request's head, then lets ``answer`` write to the socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                answer(conn)
            except OSError:
                pass  # the client gave up: what a tarpit wants

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def drip(payload: bytes, every_s: float = 0.5) -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        for byte in payload:
            conn.sendall(bytes([byte]))
            time.sleep(every_s)

    return answer


def reply(status: str, body: bytes, content_type: str = "application/json") -> Callable[[socket.socket], None]:
    def answer(conn: socket.socket) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
        conn.sendall(head.encode() + body)

    return answer


def timed(call: Callable[[], object]) -> tuple[ServingError, float]:
    started = time.monotonic()
    with pytest.raises(ServingError) as caught:
        call()
    return caught.value, time.monotonic() - started


# ----------------------------------------------------------------------------------------- deadlines
def test_a_tarpit_dripping_the_status_line_cannot_hold_a_call_past_its_deadline() -> None:
    with raw_server(drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 4)) as url:
        client = TritonClient(url, timeout_s=1.0, query_timeout_s=1.0)
        error, elapsed = timed(client.repository_index)
    assert elapsed < 1.0 + MARGIN_S, f"held for {elapsed:.2f} s"
    assert "1 s" in str(error) and url in str(error)


def test_a_tarpit_dripping_the_body_cannot_hold_a_call_past_its_deadline() -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        drip(b"[" + b" " * 98 + b"]")(conn)

    with raw_server(answer) as url:
        client = TritonClient(url, timeout_s=1.0, query_timeout_s=1.0)
        _, index_s = timed(client.repository_index)
        _, load_s = timed(lambda: client.load("m"))
    assert index_s < 1.0 + MARGIN_S and load_s < 1.0 + MARGIN_S


def test_a_silent_server_fails_a_query_at_its_query_deadline() -> None:
    with raw_server(lambda conn: time.sleep(3)) as url:
        client = TritonClient(url, timeout_s=30.0, query_timeout_s=0.5)
        _, elapsed = timed(lambda: client.served_version("m"))
    assert 0.4 < elapsed < 0.5 + MARGIN_S


def test_readiness_is_false_when_the_server_does_not_answer_in_time() -> None:
    with raw_server(lambda conn: time.sleep(3)) as url:
        client = TritonClient(url, query_timeout_s=0.3)
        started = time.monotonic()
        assert client.server_ready() is False
        assert time.monotonic() - started < 0.3 + MARGIN_S


def test_an_unreachable_endpoint_is_a_serving_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    with pytest.raises(ServingError, match="repository index failed"):
        TritonClient(f"http://127.0.0.1:{port}").repository_index()


# --------------------------------------------------------------------------------- broken replies
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>gateway</body></html>", "text/html"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
    ],
)
def test_a_reply_that_is_not_json_is_a_serving_error(body: bytes, content_type: str) -> None:
    with raw_server(reply("200 OK", body, content_type)) as url:
        client = TritonClient(url)
        with pytest.raises(ServingError, match="not JSON"):
            client.repository_index()
        with pytest.raises(ServingError):
            client.served_version("m")
        with pytest.raises(ServingError):
            client.model_config("m__v1")


@pytest.mark.parametrize(
    "index",
    [
        {"models": []},  # not a list
        ["m"],  # not a list of objects
        [{"name": "m", "version": "one", "state": "READY"}],  # a version that is no number
    ],
)
def test_a_malformed_index_is_a_serving_error(index: object) -> None:
    with raw_server(reply("200 OK", json.dumps(index).encode())) as url:
        with pytest.raises(ServingError):
            TritonClient(url).served_version("m")


def test_an_http_error_names_tritons_message() -> None:
    body = json.dumps({"error": "failed to load 'm': no version is available"}).encode()
    with raw_server(reply("400 Bad Request", body)) as url:
        with pytest.raises(ServingError, match=r"loading m failed: HTTP 400: failed to load 'm'"):
            TritonClient(url).load("m")


def test_a_half_closed_reply_is_a_serving_error() -> None:
    def answer(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n[{"na')

    with raw_server(answer) as url:
        with pytest.raises(ServingError):
            TritonClient(url).repository_index()


@pytest.mark.parametrize("endpoint", ["https://triton:8000", "ftp://triton", "http://:8000", "triton:port"])
def test_an_endpoint_that_is_not_http_host_port_is_refused(endpoint: str) -> None:
    with pytest.raises(ServingError, match="Triton endpoint"):
        TritonClient(endpoint)


def test_both_endpoint_spellings_reach_the_same_server() -> None:
    with FakeTriton() as triton:
        bare = triton.url.removeprefix("http://")
        assert TritonClient(triton.url).server_ready() and TritonClient(bare).server_ready()
        assert TritonClient(triton.url + "/").url == TritonClient(bare).url == bare


# -------------------------------------------------------------------------------------- promotion
def test_promote_loads_the_version_model_then_the_stable_name_with_an_override() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        swap = client.promote("m", 3)

        loads = [(path, body) for method, path, body in triton.calls if path.endswith("/load")]
        assert [path for path, _ in loads] == ["/v2/repository/models/m__v3/load", "/v2/repository/models/m/load"]
        assert loads[0][1] == {}  # its own config.pbtxt from the repository
        config = json.loads(loads[1][1]["parameters"]["config"])
        assert config["name"] == "m" and config["version_policy"] == {"specific": {"versions": [3]}}
        assert config["backend"] == "python"  # everything else is the version model's config
        assert ("GET", "/v2/models/m__v3/config", None) in triton.calls
        assert (swap.model, swap.version, swap.previous) == ("m", 3, None)
        assert triton.loaded["m"] == [3] and client.served_version("m") == 3


def test_promote_does_not_reload_a_loaded_version_model_and_reports_the_previous_version() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        client.promote("m", 1)
        client.load("m__v2")
        triton.calls.clear()

        swap = client.promote("m", 2)

        loads = [path for _, path, _ in triton.calls if path.endswith("/load")]
        assert loads == ["/v2/repository/models/m/load"]
        assert (swap.version, swap.previous) == (2, 1)
        assert client.served_version("m") == 2 and client.loaded_versions("m") == [2]


def test_after_a_restart_promote_serves_the_version_again() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        client.promote("m", 2)
        triton.restart()  # explicit mode: nothing loaded, no config for m__v2
        assert client.served_version("m") is None
        with pytest.raises(ServingError, match="unknown model"):
            client.model_config("m__v2")

        swap = client.promote("m", 2)

        assert (swap.version, swap.previous) == (2, None)
        assert client.served_version("m") == 2 and triton.loaded["m__v2"] == [2]


def test_served_version_is_none_unless_exactly_one_version_is_ready() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        assert client.served_version("m") is None
        triton.loaded["m"] = [1, 2]  # mid-swap
        assert client.served_version("m") is None and client.loaded_versions("m") == [1, 2]
        triton.loaded["m"] = [2]
        assert client.served_version("m") == 2


def test_a_promotion_that_never_settles_fails_after_its_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        monkeypatch.setattr(client, "loaded_versions", lambda name: [1, 2])  # the old version never retires
        started = time.monotonic()
        with pytest.raises(ServingError, match=r"m still does not serve only version 2 after 0.3 s"):
            client.promote("m", 2, wait_s=0.3)
        assert time.monotonic() - started < 0.3 + MARGIN_S


def test_unload_all_unloads_every_model_with_its_dependents() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        client.promote("m", 1)
        client.unload_all(["m", "m__v1"])
        unloads = [(path, body) for _, path, body in triton.calls if path.endswith("/unload")]
        assert unloads == [
            ("/v2/repository/models/m/unload", {"parameters": {"unload_dependents": True}}),
            ("/v2/repository/models/m__v1/unload", {"parameters": {"unload_dependents": True}}),
        ]
        assert triton.loaded == {}


def test_the_client_is_safe_from_many_threads() -> None:
    with FakeTriton() as triton:
        client = TritonClient(triton.url)
        client.promote("m", 1)
        seen: list[int | None] = []
        threads = [threading.Thread(target=lambda: seen.append(client.served_version("m"))) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen == [1] * 16
