"""An asyncio closed-loop load generator for Triton's HTTP inference API, cheap enough not to be measured.

``concurrency`` workers each send one request, wait for its answer, and send the next, until ``requests``
have been sent; every request's latency is recorded, failures are counted (never raised).

Why pre-built requests on raw kept-alive connections (``http1``): on a 2-core machine the generator shares
the CPU with Triton, so every client microsecond shows up as server latency. The bodies are built once,
before the clock starts, with ``tritonclient.http.InferenceServerClient.generate_request_body`` (the
binary-tensor extension, exactly what tritonclient would send), each worker's connection is open before it
too, and answers are decoded with ``parse_response_body`` only when the caller asks for the labels
(scoring), not during latency runs. ``tritonclient.http.aio`` (which rebuilds the JSON header and copies
every tensor per call), ``tritonclient.grpc.aio`` and aiohttp with these same bodies all cost more CPU per
request (bench/RESULTS.md). The generator's own CPU time (``time.process_time``) is reported next to the
wall time so a result can show it was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from frontier.serving import http1
from frontier.serving.client import address
from frontier.serving.configs import LABEL, PROBABILITIES, PROBABILITY


@dataclass(frozen=True)
class PreparedRequest:
    body: bytes
    header_length: int | None


@dataclass
class LoadResult:
    """What one run of the generator measured."""

    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_messages: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    labels: list[str | None] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput_rps(self) -> float:
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    @property
    def client_cpu_share(self) -> float:
        """The generator's CPU seconds per wall second (1.0 = one core busy)."""
        return self.client_cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def prepare(texts: Sequence[str], with_probabilities: bool = False) -> list[PreparedRequest]:
    """One request body per text (a batch of one, shape [1, 1])."""
    import tritonclient.http as http

    from frontier.serving.client import text_input

    outputs = [http.InferRequestedOutput(LABEL, binary_data=True)]
    if with_probabilities:
        outputs += [http.InferRequestedOutput(n, binary_data=True) for n in (PROBABILITY, PROBABILITIES)]
    prepared = []
    for text in texts:
        body, header_length = http.InferenceServerClient.generate_request_body([text_input([text], http)], outputs)
        prepared.append(PreparedRequest(body=body, header_length=header_length))
    return prepared


def _label_of(body: bytes, header_length: bytes | None) -> str:
    import tritonclient.http as http

    result = http.InferenceServerClient.parse_response_body(
        body, header_length=int(header_length) if header_length else None
    )
    value = result.as_numpy(LABEL).reshape(-1)[0]
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


async def run_load(
    url: str,
    model: str,
    requests: Sequence[PreparedRequest],
    concurrency: int,
    total: int | None = None,
    version: int | None = None,
    decode_labels: bool = False,
    timeout_s: float = 60.0,
    stop: asyncio.Event | None = None,
) -> LoadResult:
    """Send ``total`` requests (default: each of ``requests`` once, cycling if more) with ``concurrency``
    in flight; with ``stop`` set, keep going (cycling) until it is set instead."""
    host, port, prefix = address(url)
    path = f"{prefix}/v2/models/{model}" + (f"/versions/{version}" if version is not None else "") + "/infer"
    wire = [http1.post(host, port, path, r.body, _headers(r)) for r in requests]
    count = len(requests) if total is None else total
    result = LoadResult(concurrency=concurrency, labels=[None] * (count if stop is None else 0))
    next_index = 0

    async def worker(connection: http1.Connection) -> None:
        nonlocal next_index
        while (next_index < count) if stop is None else not stop.is_set():
            index = next_index
            next_index += 1
            started = time.perf_counter()
            try:
                async with asyncio.timeout(timeout_s):
                    answer = await connection.exchange(wire[index % len(wire)])
                if answer.status != 200:
                    raise RuntimeError(f"HTTP {answer.status}: {answer.body[:300]!r}")
                elapsed = (time.perf_counter() - started) * 1000.0
                if decode_labels and stop is None:
                    result.labels[index] = _label_of(
                        answer.body, answer.headers.get(b"inference-header-content-length")
                    )
                result.latencies_ms.append(elapsed)
            except Exception as error:  # a failed request is a measurement, not a crash
                result.errors += 1
                if len(result.error_messages) < 10:
                    result.error_messages.append(f"{type(error).__name__}: {error}")

    connections = [http1.Connection(host, port) for _ in range(concurrency)]
    # Connected before the clock starts (a connection that fails here is retried by its first request).
    await asyncio.gather(*(c.open() for c in connections), return_exceptions=True)
    try:
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        result.wall_s = time.perf_counter() - wall_start
        result.client_cpu_s = time.process_time() - cpu_start
    finally:
        for connection in connections:
            connection.close()
    return result


def _headers(request: PreparedRequest) -> dict[str, str]:
    headers = {"Content-Type": "application/octet-stream"}
    if request.header_length is not None:
        headers["Inference-Header-Content-Length"] = str(request.header_length)
    return headers
