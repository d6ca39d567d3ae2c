"""The FastAPI application. The console mounts it: ``Mount("/api", app=create_app())``."""

from __future__ import annotations

from fastapi import FastAPI

from api import docs, events, investigations, problems, reviews, runs
from api.auth import ReadAudit
from api.guard import InputGuard
from api.ops import RequestTimer

DESCRIPTION = (
    "Agents put their actions through Revo's review gate: submit, wait for a person's decision, "
    "report what happened. Authenticate with `Authorization: Bearer <API token>`; errors are "
    "RFC 9457 problem+json."
)


def create_app() -> FastAPI:
    """The API v1 app: OpenAPI at /v1/openapi.json and docs at /docs under its mount point."""
    app = FastAPI(
        title="Revo Console API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url=None,  # api/docs.py serves them from our own origin
        redoc_url=None,
    )
    problems.install(app)
    docs.install(app)
    for module in (reviews, runs, events, investigations):
        app.include_router(module.router)
    app.add_middleware(ReadAudit)
    app.add_middleware(InputGuard)
    app.add_middleware(RequestTimer)
    return app
