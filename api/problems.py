"""RFC 9457 problem+json for every error the API answers with; nothing else leaks."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from services import errors

log = logging.getLogger("revo.api")
MEDIA_TYPE = "application/problem+json"

STATUS: list[tuple[type[errors.ServiceError], int]] = [
    (errors.NotFound, 404),
    (errors.PermissionDenied, 403),
    (errors.PolicyRefused, 403),
    (errors.Conflict, 409),
    (errors.InvalidTransition, 409),
    (errors.InvalidInput, 422),
    (errors.DatabaseUnavailable, 503),
    (errors.LLMUnavailable, 503),
    (errors.LLMError, 502),
]


class ApiProblem(Exception):
    """An error the API itself raises (auth, rate limit), with its status and headers."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}
        self.extra = extra


def slug(title: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"urn:revo:problem:{slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def status_of(exc: errors.ServiceError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.ServiceError)
    status = status_of(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.PolicyRefused):
        extra["rule"] = exc.rule
    headers = {"Retry-After": "5"} if status == 503 else None
    return problem(
        status, exc.title, exc.message, instance=request.url.path, headers=headers, **extra
    )


async def _api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extra,
    )


def _clean_error(err: Any) -> dict[str, Any]:
    # The offending input is not echoed back: it may be huge or hostile.
    return {
        "loc": [str(p) for p in err.get("loc", ())],
        "msg": str(err.get("msg", ""))[:500],
        "type": str(err.get("type", "")),
    }


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = [_clean_error(e) for e in exc.errors()[:50]]
    first = found[0] if found else {"loc": [], "msg": "invalid"}
    where = ".".join(p for p in first["loc"] if p != "body") or "request"
    return problem(
        422,
        "Please check your input",
        f"{where}: {first['msg']}",
        instance=request.url.path,
        errors=found,
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 401: "Not signed in"}
    title = titles.get(exc.status_code, "Request refused")
    detail = exc.detail if isinstance(exc.detail, str) else title
    return problem(
        exc.status_code, title, detail, instance=request.url.path, headers=dict(exc.headers or {})
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return problem(
        500,
        "Something went wrong",
        "The server could not answer; it was logged.",
        instance=request.url.path,
    )


class Problem(BaseModel):
    """RFC 9457 problem details; some carry more members (errors, rule, required_scope, limit)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None


def _documented(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec saying what the API really answers on errors: problem+json, never plain JSON."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    body = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "The input is not valid", **body}
            responses["default"] = {"description": "An error, as RFC 9457 problem details", **body}
    return spec


def install(app: FastAPI) -> None:
    """Map every error to problem+json on the app, and say so in its OpenAPI spec."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _documented(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(errors.ServiceError, _service_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
