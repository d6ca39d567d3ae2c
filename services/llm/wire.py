"""HTTP to a model server under a hard wall-clock bound, trickling bodies included.

httpx's timeouts are per network operation: a server that sends one byte a second never trips
the read timeout and holds a request for as long as it likes. Each request here runs on an
event loop of its own inside ``asyncio.timeout``; when the bound passes, the request task is
cancelled, which closes the connection, and :class:`DeadlineExceeded` (an httpx timeout) is
raised. Bodies are also capped in size, so a fast endless body cannot fill memory either.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ssl
from collections.abc import Coroutine
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

MAX_BODY_BYTES = 32 * 1024 * 1024


class DeadlineExceeded(httpx.TimeoutException):
    """The whole request (connect, send, headers and body) took longer than its bound."""


class BodyTooLarge(httpx.DecodingError):
    """The server sent more than ``MAX_BODY_BYTES``."""


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status and decoded body text."""

    status: int
    text: str


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Building a context loads the CA bundle (milliseconds); one per process is enough.
    return httpx.create_ssl_context()


async def _exchange(
    method: str,
    url: str,
    *,
    json: Any,
    headers: dict[str, str] | None,
    timeout: httpx.Timeout,
) -> Answer:
    async with (
        httpx.AsyncClient(timeout=timeout, verify=_ssl_context()) as client,
        client.stream(method, url, json=json, headers=headers) as response,
    ):
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge(f"the answer is larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        text = b"".join(chunks).decode(response.encoding or "utf-8", errors="replace")
        return Answer(response.status_code, text)


def _run(coro: Coroutine[Any, Any, T], bound_s: float) -> T:
    async def bounded() -> T:
        try:
            async with asyncio.timeout(max(bound_s, 0.0)):
                return await coro
        except TimeoutError:
            raise DeadlineExceeded(f"no complete answer within {bound_s:g} s") from None

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded())
    # Called from inside an event loop (an async route): run on a thread with a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="revo-llm") as pool:
        return pool.submit(asyncio.run, bounded()).result()


def request(
    method: str,
    url: str,
    *,
    bound_s: float,
    idle_s: float,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One HTTP exchange that ends within ``bound_s`` seconds, whatever the server does.

    ``idle_s`` is httpx's per-operation timeout (a silent server fails sooner than the bound).
    """
    timeout = httpx.Timeout(idle_s, connect=min(idle_s, 5.0))
    coro = _exchange(method, url, json=json, headers=headers, timeout=timeout)
    return _run(coro, bound_s)
