"""The load generator's HTTP/1.1 (``frontier.serving.http1``) against a real socket server scripted per test."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from frontier.serving import http1

Script = Callable[[int], bytes]
"""The raw answer to the n-th request a server has seen (from 0)."""


@dataclass
class Server:
    port: int
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)


async def serve(script: Script) -> tuple[Server, asyncio.Server]:
    server = Server(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                server.requests.append(head + await reader.readexactly(length))
                answer = script(len(server.requests) - 1)
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer or not (b"Content-Length" in answer or b"chunked" in answer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    return server, listening


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[Server]]]:
    started: list[asyncio.Server] = []

    async def start(script: Script) -> Server:
        server, listening = await serve(script)
        started.append(listening)
        return server

    yield start
    for listening in started:
        listening.close()


def request(server: Server, body: bytes = b"{}") -> bytes:
    return http1.post("127.0.0.1", server.port, "/v2/models/m/infer", body, {"Content-Type": "application/json"})


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (OK, b"hello"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=1\r\nlo\r\n0\r\n\r\n", b"hello"),
        (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", b""),
    ],
    ids=["by Content-Length", "chunked (an extension ignored)", "empty"],
)
async def test_answers_are_read_by_their_framing_on_one_kept_alive_connection(
    scripted: Callable[[Script], Awaitable[Server]], answer: bytes, body: bytes
) -> None:
    server = await scripted(lambda n: answer)
    connection = http1.Connection("127.0.0.1", server.port)
    answers = [await connection.exchange(request(server)) for _ in range(3)]
    connection.close()
    assert [a.body for a in answers] == [body] * 3
    assert server.connections == 1


async def test_the_request_is_a_post_with_its_length_and_headers(
    scripted: Callable[[Script], Awaitable[Server]],
) -> None:
    server = await scripted(lambda n: OK)
    connection = http1.Connection("127.0.0.1", server.port)
    await connection.exchange(request(server, b'{"inputs": []}'))
    connection.close()
    head, _, sent = server.requests[0].partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /v2/models/m/infer HTTP/1.1"
    assert b"Content-Length: 14" in head and b"Content-Type: application/json" in head
    assert sent == b'{"inputs": []}'


@pytest.mark.parametrize(
    "first",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\n\r\nhello",  # no length: the body runs to the end of the connection
    ],
    ids=["Connection: close", "a body without a length"],
)
async def test_a_connection_the_server_ends_is_opened_again_for_the_next_request(
    scripted: Callable[[Script], Awaitable[Server]], first: bytes
) -> None:
    server = await scripted(lambda n: first if n == 0 else OK)
    connection = http1.Connection("127.0.0.1", server.port)
    assert [(await connection.exchange(request(server))).body for _ in range(2)] == [b"hello", b"hello"]
    connection.close()
    assert server.connections == 2


async def test_an_answer_that_is_not_http_fails_the_request_and_the_next_one_reconnects(
    scripted: Callable[[Script], Awaitable[Server]],
) -> None:
    server = await scripted(lambda n: b"SSH-2.0-OpenSSH\r\n\r\n" if n == 0 else OK)
    connection = http1.Connection("127.0.0.1", server.port)
    with pytest.raises(ConnectionError, match=re.escape("not an HTTP/1.x answer: b'SSH-2.0-OpenSSH'")):
        await connection.exchange(request(server))
    assert (await connection.exchange(request(server))).body == b"hello"
    connection.close()
    assert server.connections == 2


async def test_the_load_generator_counts_error_answers_and_keeps_going(
    scripted: Callable[[Script], Awaitable[Server]],
) -> None:
    pytest.importorskip("tritonclient")
    from frontier.serving import loadgen

    refusal = b'{"error":"no such model"}'
    answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s" % (len(refusal), refusal)
    server = await scripted(lambda n: OK if n % 2 else answer)
    result = await loadgen.run_load(f"127.0.0.1:{server.port}", "m", loadgen.prepare(["a text"]), 2, total=6)
    assert (result.completed, result.errors) == (3, 3)
    assert result.error_messages[0].startswith('RuntimeError: HTTP 400: b\'{"error":"no such model"}\'')
    assert server.connections == 2  # one kept-alive connection per worker, errors included
