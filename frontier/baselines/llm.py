"""A prompted LLM measured as a classifier through any OpenAI-compatible chat-completions endpoint.

One request per eval row: ``prompt`` builds the messages (the label set in the instructions; for few-shot,
``k`` examples drawn stratified from train as earlier turns), ``ask`` sends it with temperature 0 and a cap on
output tokens, retrying 429 and 5xx answers with exponential backoff (``Retry-After`` when the server gives one),
and ``parse_label`` maps the reply onto a label: exact, then case- and punctuation-insensitive; anything else
is *unparseable* — scored as wrong and counted apart. ``measure`` runs the rows with a fixed number of workers
and a request budget (retries included) and returns what the decision needs: macro-F1, latency percentiles,
mean tokens per request from ``usage``, errors, retries and unparseable replies.

The client is aiohttp: keep-alive connections, one session per measurement.
The API key is read by the caller (a Secret in a cluster) and only ever sent as the bearer token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frontier.data import metrics
from frontier.errors import FrontierError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_ATTEMPTS = 5
BACKOFF_S = 0.5
BACKOFF_CAP_S = 20.0


class BaselineError(FrontierError):
    """The endpoint could not be measured (unreachable, refused, out of budget before any answer)."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    """The API base, e.g. ``https://api.openai.com/v1``; requests go to ``<url>/chat/completions``."""
    model: str
    api_key: str | None = None
    max_output_tokens: int = 16
    timeout_s: float = 60.0
    backoff_s: float = BACKOFF_S
    """The first retry's wait; it doubles with every attempt (up to ``BACKOFF_CAP_S``)."""


@dataclass(frozen=True)
class Reply:
    label: str | None
    """The label the reply names, or None (unparseable, or the request failed)."""
    text: str
    latency_ms: float
    input_tokens: int
    output_tokens: int
    retries: int
    error: str | None = None


@dataclass
class Measurement:
    rows: int
    macro_f1: float
    accuracy: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    input_tokens: float
    """Mean prompt tokens per answered request, from ``usage``."""
    output_tokens: float
    unparseable: int
    errors: int
    retries: int
    requests: int
    """Requests sent, retries included."""
    error_messages: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- the prompt


def prompt(text: str, labels: Sequence[str], shots: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """The chat messages for one row: instructions naming every label, the shots as earlier turns, the text."""
    instructions = (
        "Classify the text into exactly one of these labels: "
        + ", ".join(labels)
        + ". Answer with the label only, nothing else."
    )
    messages = [{"role": "system", "content": instructions}]
    for example, label in shots:
        messages += [{"role": "user", "content": example}, {"role": "assistant", "content": label}]
    messages.append({"role": "user", "content": text})
    return messages


def _folded(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def parse_label(reply: str, labels: Sequence[str]) -> str | None:
    """The label ``reply`` names: exactly, else ignoring case and punctuation (``"Sports."`` → ``Sports``);
    None when it names none or is ambiguous."""
    stripped = reply.strip()
    if stripped in labels:
        return stripped
    folded = {_folded(label): label for label in labels}
    return folded.get(_folded(stripped))


# ------------------------------------------------------------------------------------------- the client


def _backoff(endpoint: Endpoint, attempt: int, headers: Any = None) -> float:
    """How long to wait before attempt ``attempt`` + 1: the server's ``Retry-After``, else exponential."""
    exponential = min(BACKOFF_CAP_S, endpoint.backoff_s * 2.0**attempt)
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return exponential
    try:
        return float(min(BACKOFF_CAP_S, max(0.0, float(str(value)))))
    except ValueError:  # an HTTP date: not worth parsing for a benchmark
        return exponential


async def ask(
    session: Any, endpoint: Endpoint, messages: list[dict[str, str]], labels: Sequence[str], budget: _Budget
) -> Reply:
    """One row: POST the chat completion, retry 429/5xx and dropped connections with backoff, parse the label."""
    import aiohttp

    body = {
        "model": endpoint.model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": endpoint.max_output_tokens,
    }
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    url = endpoint.url.rstrip("/") + "/chat/completions"
    attempts, error = 0, "no answer"
    while attempts < MAX_ATTEMPTS and budget.take():
        attempts += 1
        started = time.perf_counter()
        try:
            async with session.post(url, json=body, headers=headers) as response:
                if response.status in RETRY_STATUSES:
                    error = f"HTTP {response.status}"
                    await asyncio.sleep(_backoff(endpoint, attempts - 1, response.headers))
                    continue
                payload = await response.json(content_type=None)
                latency_ms = (time.perf_counter() - started) * 1000.0
        except (TimeoutError, OSError, ValueError, aiohttp.ClientError) as failure:  # ValueError: a body not JSON
            error = f"{type(failure).__name__}: {failure}"
            await asyncio.sleep(_backoff(endpoint, attempts - 1))
            continue
        if response.status != 200:  # a client error (4xx): asking again cannot help
            return Reply(None, "", latency_ms, 0, 0, attempts - 1, f"HTTP {response.status}: {str(payload)[:200]}")
        try:
            text = str(payload["choices"][0]["message"]["content"] or "")
            usage = payload.get("usage") or {}
            tokens = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as failure:
            return Reply(None, "", latency_ms, 0, 0, attempts - 1, f"not a chat completion: {failure!r}")
        return Reply(parse_label(text, labels), text, latency_ms, *tokens, attempts - 1)
    if attempts < MAX_ATTEMPTS:  # the loop ended on the budget, not on the attempts
        error = "request budget spent" + (f" (last: {error})" if attempts else "")
    return Reply(None, "", 0.0, 0, 0, max(0, attempts - 1), error)


class _Budget:
    """Requests left to send, retries included, shared by the workers."""

    def __init__(self, requests: int) -> None:
        self.left = requests
        self.sent = 0

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        self.sent += 1
        return True


async def measure(
    endpoint: Endpoint,
    texts: Sequence[str],
    gold: Sequence[int],
    labels: Sequence[str],
    *,
    shots: Sequence[tuple[str, str]] = (),
    concurrency: int = 4,
    max_requests: int = 1000,
) -> Measurement:
    """Ask about every row with ``concurrency`` workers, within ``max_requests`` requests; score the answers."""
    import aiohttp

    budget = _Budget(max_requests)
    replies: list[Reply | None] = [None] * len(texts)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(texts)):
        queue.put_nowait(i)
    timeout = aiohttp.ClientTimeout(total=endpoint.timeout_s)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                replies[i] = await ask(session, endpoint, prompt(texts[i], labels, shots), labels, budget)

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    answered = [r for r in replies if r is not None]
    if not any(r.error is None for r in answered):
        first = next((r.error for r in answered if r.error), "no rows")
        raise BaselineError(f"{endpoint.url}: no request succeeded ({first})")
    return _scored(answered, gold, labels, budget.sent)


def _scored(replies: list[Reply], gold: Sequence[int], labels: Sequence[str], sent: int) -> Measurement:
    k = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    predicted = np.array([index.get(r.label, k) if r.label is not None else k for r in replies], dtype=np.int64)
    truth = np.asarray(gold[: len(replies)], dtype=np.int64)
    matrix = metrics.confusion_matrix(truth, predicted, k + 1)  # an extra "no answer" column: counted wrong
    f1 = metrics.per_class(matrix)["f1"][:k]
    ok = [r for r in replies if r.error is None]
    latencies = np.array([r.latency_ms for r in ok])
    return Measurement(
        rows=len(replies),
        macro_f1=float(f1.mean()),
        accuracy=float((predicted == truth).mean()),
        p50_ms=float(np.percentile(latencies, 50)),
        p95_ms=float(np.percentile(latencies, 95)),
        p99_ms=float(np.percentile(latencies, 99)),
        input_tokens=float(np.mean([r.input_tokens for r in ok])),
        output_tokens=float(np.mean([r.output_tokens for r in ok])),
        unparseable=sum(1 for r in ok if r.label is None),
        errors=sum(1 for r in replies if r.error is not None),
        retries=sum(r.retries for r in replies),
        requests=sent,
        error_messages=[r.error for r in replies if r.error][:10],
    )


def measure_sync(*args: Any, **kwargs: Any) -> Measurement:
    """``measure`` from synchronous code (its own event loop)."""
    return asyncio.run(measure(*args, **kwargs))
