"""Root-level operations routes: /healthz (liveness), /readyz (readiness), /metrics (Prometheus)."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from services import health
from services.config import get_settings
from services.review import signals

log = logging.getLogger("revo.api")
REGISTRY = CollectorRegistry(auto_describe=False)
REQUEST_SECONDS = Histogram(
    "revo_api_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class _Gauges(Collector):
    def collect(self) -> Iterator[Metric]:
        try:
            g = health.gauges()
        except Exception:  # the database is away: say so instead of failing the scrape
            log.warning("metrics: could not read the gauges", exc_info=True)
            yield GaugeMetricFamily("revo_database_up", "1 when the database answers", value=0.0)
            return
        yield GaugeMetricFamily("revo_database_up", "1 when the database answers", value=1.0)
        reviews = GaugeMetricFamily(
            "revo_review_items", "Review items by status", labels=["status"]
        )
        for status, count in g.reviews_by_status.items():
            reviews.add_metric([status], count)
        yield reviews
        yield GaugeMetricFamily(
            "revo_review_oldest_pending_age_seconds",
            "Age of the oldest pending item",
            value=g.oldest_pending_age_s,
        )
        runs = GaugeMetricFamily("revo_agent_runs", "Agent runs by status", labels=["status"])
        for status, count in g.runs_by_status.items():
            runs.add_metric([status], count)
        yield runs
        outbox = GaugeMetricFamily(
            "revo_notify_outbox", "Notifications waiting, being sent or dead", labels=["status"]
        )
        for status, count in g.outbox_by_status.items():
            outbox.add_metric([status], count)
        yield outbox
        yield GaugeMetricFamily(
            "revo_llm_breaker_open",
            "1 when the model server's breaker is open",
            value=1.0 if g.breaker_open else 0.0,
        )
        yield GaugeMetricFamily(
            "revo_api_waiting_reviews",
            "Review items long-polling clients wait on",
            value=signals.waiting(),
        )


REGISTRY.register(_Gauges())


class RequestTimer:
    """ASGI middleware recording each request's latency by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], name, str(status[0])).observe(
                time.perf_counter() - started
            )


async def healthz(request: Request) -> Response:
    """Liveness: the process answers. No I/O."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness with each check's status; 503 when not ready."""
    found = await run_in_threadpool(health.readiness)
    return JSONResponse(found.model_dump(), status_code=200 if found.ready else 503)


async def metrics(request: Request) -> Response:
    """Prometheus text format, for a caller with the metrics token."""
    token = get_settings().metrics_token
    if token is None:
        return problem(404, "Not found", "Metrics are off; set REVO_METRICS_TOKEN to turn them on.")
    given = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return problem(
            401,
            "Not signed in",
            "Send 'Authorization: Bearer <metrics token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    body = await run_in_threadpool(generate_latest, REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    """The operations routes, for the root of the console's ASGI app."""
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
