"""Hostile input stops at the door: body size, JSON depth, NaN/Infinity, NUL and bad Unicode."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from services.config import get_settings


class Refused(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def _constant(name: str) -> Any:
    raise Refused(422, "Please check your input", f"{name} is not a JSON number; send a number.")


def check_json(body: bytes, *, max_depth: int) -> None:
    """Refuse a body that is not JSON we can store: too deep, NaN, NUL, lone surrogates."""
    try:
        doc = json.loads(body, parse_constant=_constant)
    except RecursionError:
        raise Refused(422, "Please check your input", "The JSON is nested too deeply.") from None
    except ValueError as exc:
        raise Refused(400, "Malformed request", f"The body is not valid JSON: {exc}") from None
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > max_depth:
            raise Refused(
                422,
                "Please check your input",
                f"The JSON is nested deeper than {max_depth} levels.",
            )
        if isinstance(value, dict):
            for key, child in value.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise Refused(422, "Please check your input", "Text may not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(
            422, "Please check your input", "Text holds an unpaired surrogate (\\ud800-\\udfff)."
        ) from None


class InputGuard:
    """Pure ASGI middleware: reads and checks the body before the app sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except Refused as exc:
            response = problem(exc.status, exc.title, exc.detail, instance=scope.get("path"))
            await response(scope, receive, send)
            return
        if body is None:
            await self.app(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes | None:
        query = scope.get("query_string", b"").lower()
        if b"%00" in query or "\x00" in scope.get("path", ""):
            raise Refused(400, "Malformed request", "The address may not contain NUL characters.")
        if scope["method"] not in {"POST", "PUT", "PATCH", "DELETE"}:
            return None
        settings = get_settings()
        limit = settings.api_max_body_bytes
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(413, "Request too large", f"The body is over {limit:,} bytes.")
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "Malformed request", "The client went away mid-request.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(413, "Request too large", f"The body is over {limit:,} bytes.")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json" and not kind.endswith("+json"):
                raise Refused(415, "Unsupported media type", "Send the body as application/json.")
            check_json(body, max_depth=settings.api_max_json_depth)
        return body
