"""Demo events from every source, built through one log that keeps external ids unique."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.enums import EventSeverity, EventSource
from domain.models import Event
from services.seed.context import DemoContext
from services.seed.vocab import FIRST_NAMES, LAST_NAMES, SERVICES, hex_id, pick, sha256_hex, words

BACKGROUND_EVENTS = 60
FILES = words("config.py settings.yaml client.py handlers.py models.py tests/test_api.py")
CHORES = words(
    "Bump dependencies|Add request id to structured logs|Fix flaky integration test|"
    "Increase test coverage for edge cases|Tidy up feature flags|Document runbook steps",
    "|",
)


class EventLog:
    """One tenant's events, in the shapes each source sends them."""

    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.rows: list[Event] = []
        self.seen: set[tuple[str, str]] = set()
        rng = ctx.rng
        self.engineers = [f"{pick(rng, FIRST_NAMES)} {pick(rng, LAST_NAMES)}" for _ in range(8)]

    def add(
        self,
        source: EventSource,
        type_: str,
        at: datetime,
        severity: EventSeverity,
        service: str,
        title: str,
        data: dict[str, Any],
        external_id: str,
    ) -> Event:
        """Record one event; the external id gets a suffix if the source already used it."""
        at = min(at, self.ctx.now - timedelta(seconds=30))
        key, n = external_id, 2
        while (source.value, key) in self.seen:
            key, n = f"{external_id}-{n}", n + 1
        self.seen.add((source.value, key))
        lag = 1 if source == EventSource.MANUAL else self.ctx.rng.uniform(2, 90)
        event = Event(
            tenant_id=self.ctx.tenant_id,
            source=source,
            type=type_,
            occurred_at=at,
            ingested_at=at + timedelta(seconds=lag),
            severity=severity,
            service=service,
            title=title[:500],
            data=data,
            payload_hash=sha256_hex(source.value, key, data),
            external_id=key,
        )
        self.rows.append(event)
        return event

    def commit(self, service: str, component: str, message: str, at: datetime) -> Event:
        rng = self.ctx.rng
        sha = hex_id(rng, 40)
        data: dict[str, Any] = {"sha": sha, "author": pick(rng, self.engineers)}
        data |= {"message": message, "branch": "main", "repo": f"{self.ctx.spec.slug}/{component}"}
        data["files"] = [f"{component}/{f}" for f in rng.sample(FILES, rng.randint(1, 4))]
        title = f"{sha[:7]} {message}"
        return self.add(
            EventSource.GIT, "commit", at, EventSeverity.INFO, service, title, data, sha
        )

    def ci(self, service: str, sha: str, at: datetime, *, deploy: bool, ok: bool = True) -> Event:
        rng = self.ctx.rng
        pipeline = rng.randint(10_000, 99_999)
        version = f"v2.{rng.randint(30, 60)}.{rng.randint(0, 9)}"
        job, status = ("deploy" if deploy else "build"), ("passed" if ok else "failed")
        data: dict[str, Any] = {"pipeline": pipeline, "job": job, "status": status}
        data |= {"commit": sha, "duration_s": rng.randint(90, 900), "version": version}
        if deploy:
            data["environment"] = "production"
        title = f"deploy {version} to production" if deploy else f"build #{pipeline} {status}"
        severity = EventSeverity.INFO if ok else EventSeverity.MEDIUM
        ext = f"{job}-{pipeline}"
        return self.add(EventSource.CI, job, at, severity, service, title, data, ext)

    def log_spike(
        self, service: str, logger: str, sample: str, at: datetime, count: int, baseline: int
    ) -> Event:
        level = "ERROR" if count > 100 else "WARNING"
        data: dict[str, Any] = {"level": level, "logger": logger, "count": count}
        data |= {"baseline": baseline, "window_s": 300, "sample": sample}
        sev = (
            EventSeverity.HIGH if count > 800 else (EventSeverity.MEDIUM if count > 100 else "low")
        )
        ext = f"{service}:{int(at.timestamp())}:{sha256_hex(sample)[:8]}"
        title = f"{count} x {sample}"
        return self.add(
            EventSource.LOGS, "error_spike", at, EventSeverity(sev), service, title, data, ext
        )

    def anomaly(
        self, service: str, metric: str, at: datetime, value: float, baseline: float, z: float
    ) -> Event:
        data: dict[str, Any] = {"metric": metric, "value": round(value, 2)}
        data |= {"baseline": round(baseline, 2), "z_score": z, "window": "5m"}
        sev = EventSeverity.CRITICAL if z > 8 else (EventSeverity.HIGH if z > 3.5 else "low")
        title = f"{metric} at {value:.1f} (baseline {baseline:.1f})"
        ext = f"{metric}:{service}:{int(at.timestamp())}"
        return self.add(
            EventSource.METRICS, "anomaly", at, EventSeverity(sev), service, title, data, ext
        )

    def slow_span(self, service: str, span: str, at: datetime) -> Event:
        rng = self.ctx.rng
        trace_id, p99 = hex_id(rng, 32), rng.randint(400, 900)
        duration = int(p99 * rng.uniform(2.5, 12))
        data: dict[str, Any] = {"trace_id": trace_id, "span": span, "duration_ms": duration}
        data |= {"p99_ms": p99, "status_code": rng.choice([200, 200, 502, 504])}
        title = f"{span} took {duration} ms (p99 {p99} ms)"
        sev = EventSeverity.MEDIUM
        return self.add(EventSource.TRACES, "slow_span", at, sev, service, title, data, trace_id)

    def note(self, service: str, text: str, at: datetime) -> Event:
        data: dict[str, Any] = {"author": pick(self.ctx.rng, self.engineers), "text": text}
        ext = f"note-{hex_id(self.ctx.rng, 12)}"
        sev = EventSeverity.INFO
        return self.add(EventSource.MANUAL, "note", at, sev, service, text[:120], data, ext)


def background(log: EventLog) -> None:
    """Everyday noise across the services over the last 30 days: deploys, warnings, blips."""
    rng, now = log.ctx.rng, log.ctx.now
    for _ in range(BACKGROUND_EVENTS):
        at = now - timedelta(hours=rng.uniform(0.2, 30 * 24))
        svc = pick(rng, SERVICES)
        roll = rng.random()
        if roll < 0.55:
            commit = log.commit(svc, svc, pick(rng, CHORES), at)
            log.ci(svc, commit.data["sha"], at + timedelta(minutes=5), deploy=rng.random() < 0.4)
        elif roll < 0.8:
            log.log_spike(svc, svc, "retrying request", at, rng.randint(20, 90), rng.randint(5, 20))
        else:
            value, z = rng.randint(300, 700), round(rng.uniform(2, 3.4), 1)
            log.anomaly(svc, "http_server_latency_p95_ms", at, value, 250, z)
