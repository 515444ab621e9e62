"""HTTP/1.1 over one kept-alive asyncio stream: what the load generator sends and reads, and no more.

A request is bytes built once, before the clock starts; an answer is a status line, headers and a body (by
``Content-Length``, or chunked). Why not aiohttp: on a 2-core machine the generator shares the CPU with the
server it measures, and aiohttp's session, header and response objects cost about 0.4 ms of CPU per request
(measured at concurrency 8, bench/RESULTS.md session 14): CPU the server does not get, and time every
measured latency carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

HEAD_END = b"\r\n\r\n"
LINE_END = b"\r\n"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[bytes, bytes]
    """Names lower-cased."""
    body: bytes


def post(host: str, port: int, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    """A whole POST request, ready to write."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One kept-alive connection; opened on first use and again after any failure or ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def exchange(self, request: bytes) -> Answer:
        """Send ``request`` and read its answer; a failure closes the connection (the next call reopens it)."""
        await self.open()
        assert self._reader is not None and self._writer is not None
        try:
            self._writer.write(request)
            await self._writer.drain()
            status, headers = _head(await self._reader.readuntil(HEAD_END))
            body, framed = await _body(self._reader, status, headers)
        except BaseException:
            self.close()
            raise
        if not framed or headers.get(b"connection", b"").lower() == b"close":
            self.close()
        return Answer(status, headers, body)


def _head(raw: bytes) -> tuple[int, dict[bytes, bytes]]:
    status_line, *lines = raw[: -len(HEAD_END)].split(LINE_END)
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP/1.x answer: {status_line[:80]!r}")
    headers = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _body(reader: asyncio.StreamReader, status: int, headers: dict[bytes, bytes]) -> tuple[bytes, bool]:
    """The body, and whether its end was framed (else it ran to the end of the connection)."""
    if b"content-length" in headers:
        return await reader.readexactly(int(headers[b"content-length"])), True
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while size := int((await reader.readuntil(LINE_END)).split(b";", 1)[0].strip(), 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(len(LINE_END))
        while await reader.readuntil(LINE_END) != LINE_END:  # trailers, then the empty line
            pass
        return b"".join(chunks), True
    if status in (204, 304) or 100 <= status < 200:
        return b"", True
    return await reader.read(), False
