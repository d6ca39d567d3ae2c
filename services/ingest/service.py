"""Ingest files, uploads and git repositories for a tenant; one report per ingest."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import BreakerState
from domain.enums import EventSource as EventSource
from domain.models import ConnectorHealth, GitCursor
from services import audit
from services.actor import Actor
from services.config import Settings, get_settings
from services.errors import InvalidInput, NotFound, ServiceError
from services.ingest import breaker, ci, git, logs, metrics, paths, store, traces
from services.ingest.schema import ParseResult
from services.perf import gc_paused
from services.permissions import Action, require
from services.tenants import find_tenant
from services.uow import UnitOfWork

FILE_SOURCES = (EventSource.CI, EventSource.LOGS, EventSource.METRICS, EventSource.TRACES)


class SourceFailed(ServiceError):
    title = "Source unavailable"


class IngestReport(BaseModel):
    source: EventSource
    origin: str
    records: int
    inserted: int
    duplicates: int
    quarantined: int
    skipped: int
    breaker_state: BreakerState
    seconds: float


def parse_bytes(
    source: EventSource, data: bytes, *, settings: Settings, now: datetime, service: str | None
) -> ParseResult:
    """What the source's connector makes of one file's bytes."""
    skew = timedelta(seconds=settings.ingest_future_skew_s)
    limit = settings.ingest_max_line_bytes
    if source is EventSource.LOGS:
        return logs.parse(data, now=now, skew=skew, max_line=limit)
    if source is EventSource.METRICS:
        return metrics.parse(data, now=now, skew=skew, max_line=limit)
    if source is EventSource.TRACES:
        return traces.parse(
            data, now=now, skew=skew, max_line=limit, slow_ms=settings.ingest_slow_span_ms
        )
    if source is EventSource.CI:
        return ci.parse(data, now=now, skew=skew, max_line=limit, service=service)
    raise InvalidInput(f"Files cannot be ingested as {source.value}; use one of "
                       f"{', '.join(s.value for s in FILE_SOURCES)}.")  # fmt: skip


def _cap_bytes(settings: Settings) -> int:
    return int(settings.ingest_max_upload_mb * 1024 * 1024)


def _too_big(size: int, settings: Settings) -> InvalidInput:
    return InvalidInput(
        f"The file is {size / 1_048_576:,.1f} MB; the limit is "
        f"{settings.ingest_max_upload_mb:g} MB (REVO_INGEST_MAX_UPLOAD_MB)."
    )


def _run(
    *,
    actor: Actor | None,
    tenant_id: int,
    source: EventSource,
    origin: str,
    read: Callable[[datetime], ParseResult],
    cursor: tuple[str, Callable[[], str | None]] | None = None,
) -> IngestReport:
    settings = get_settings()
    started = time.perf_counter()
    now = utcnow()
    with UnitOfWork(actor, readonly=True) as uow:
        health = uow.session.scalar(
            select(ConnectorHealth).where(
                ConnectorHealth.tenant_id == tenant_id, ConnectorHealth.source == source
            )
        )
        state = breaker.admit(health, now=now, cooldown_s=settings.ingest_breaker_cooldown_s)
    try:
        with gc_paused():
            parsed = breaker.retry(
                lambda: read(now),
                attempts=settings.ingest_retry_attempts,
                backoff_s=settings.ingest_retry_backoff_s,
            )
    except breaker.SourceUnavailable as exc:
        with UnitOfWork(actor) as uow:
            row = store.health_row(uow.session, tenant_id=tenant_id, source=source)
            row.breaker_state = state
            row.runs += 1
            breaker.failed(
                row, now=now, error=str(exc), threshold=settings.ingest_breaker_threshold
            )
            audit.record(uow, action="events.ingest_failed", entity_type="connector",
                         entity_id=row.id, after={"origin": origin, "error": str(exc)},
                         tenant_id=tenant_id)  # fmt: skip
            uow.commit()
        raise SourceFailed(
            f"Reading {origin} failed after {settings.ingest_retry_attempts} attempt(s): {exc}"
        ) from exc
    with gc_paused(), UnitOfWork(actor) as uow:
        s = uow.session
        inserted = store.insert_events(s, tenant_id=tenant_id, events=parsed.events, now=now)
        rejected = store.quarantine(
            s, tenant_id=tenant_id, source=source, origin=origin, rejected=parsed.rejected
        )
        row = store.health_row(s, tenant_id=tenant_id, source=source)
        breaker.succeeded(row, now=now)
        row.runs += 1
        row.events_ingested += inserted
        row.duplicates_skipped += len(parsed.events) - inserted
        row.records_quarantined += rejected
        if cursor is not None:
            _move_cursor(s, tenant_id=tenant_id, repo=cursor[0], sha=cursor[1](), now=now)
        report = IngestReport(
            source=source,
            origin=origin,
            records=parsed.records,
            inserted=inserted,
            duplicates=len(parsed.events) - inserted,
            quarantined=rejected,
            skipped=parsed.skipped,
            breaker_state=row.breaker_state,
            seconds=round(time.perf_counter() - started, 3),
        )
        audit.record(uow, action="events.ingested", entity_type="connector", entity_id=row.id,
                     after=report.model_dump(mode="json"), tenant_id=tenant_id)  # fmt: skip
        uow.commit()
    return report


def _move_cursor(s: Session, *, tenant_id: int, repo: str, sha: str | None, now: datetime) -> None:
    if sha is None:
        return
    row = s.scalar(
        select(GitCursor).where(GitCursor.tenant_id == tenant_id, GitCursor.repo_path == repo)
    )
    if row is None:
        s.add(GitCursor(tenant_id=tenant_id, repo_path=repo, last_sha=sha, updated_at=now))
    else:
        row.last_sha, row.updated_at = sha, now


def _read_file(
    path: Path, source: EventSource, service: str | None
) -> Callable[[datetime], ParseResult]:
    settings = get_settings()

    def read(now: datetime) -> ParseResult:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise breaker.SourceUnavailable(f"cannot read {path.name}: {exc.strerror}") from exc
        return parse_bytes(source, data, settings=settings, now=now, service=service)

    return read


def _file(actor: Actor | None, tenant_id: int, source: EventSource, path: str,
          service: str | None) -> IngestReport:  # fmt: skip
    settings = get_settings()
    if source not in FILE_SOURCES:
        raise InvalidInput(f"Use the git ingest for repositories; {source.value} is not a file.")
    resolved = paths.allowed(path, roots=settings.ingest_root_paths, want_dir=False)
    size = resolved.stat().st_size
    if size > _cap_bytes(settings):
        raise _too_big(size, settings)
    return _run(actor=actor, tenant_id=tenant_id, source=source, origin=str(resolved),
                read=_read_file(resolved, source, service))  # fmt: skip


def _git(actor: Actor | None, tenant_id: int, path: str, service: str | None) -> IngestReport:
    settings = get_settings()
    repo = paths.allowed(path, roots=settings.ingest_root_paths, want_dir=True)
    with UnitOfWork(actor, readonly=True) as uow:
        since = uow.session.scalar(
            select(GitCursor.last_sha).where(
                GitCursor.tenant_id == tenant_id, GitCursor.repo_path == str(repo)
            )
        )
    tips: list[str | None] = []
    skew = timedelta(seconds=settings.ingest_future_skew_s)

    def read(now: datetime) -> ParseResult:
        try:
            result, tip = git.read(repo, since_sha=since, now=now, skew=skew, service=service)
        except git.GitError as exc:
            raise breaker.SourceUnavailable(str(exc)) from exc
        tips.append(tip)
        return result

    return _run(actor=actor, tenant_id=tenant_id, source=EventSource.GIT, origin=str(repo),
                read=read, cursor=(str(repo), lambda: tips[-1] if tips else None))  # fmt: skip


def ingest_file(
    *, actor: Actor, source: EventSource, path: str, service: str | None = None
) -> IngestReport:
    """Ingest a file under an ingest root with the source's connector."""
    require(actor, Action.INGEST_EVENTS)
    return _file(actor, actor.tenant_id, source, path, service)


def ingest_upload(
    *, actor: Actor, source: EventSource, filename: str, content: bytes, service: str | None = None
) -> IngestReport:
    """Ingest an uploaded file's bytes with the source's connector."""
    require(actor, Action.INGEST_EVENTS)
    settings = get_settings()
    if len(content) > _cap_bytes(settings):
        raise _too_big(len(content), settings)
    if source not in FILE_SOURCES:
        raise InvalidInput(f"Uploads cannot be ingested as {source.value}.")

    def read(now: datetime) -> ParseResult:
        return parse_bytes(source, content, settings=settings, now=now, service=service)

    origin = f"upload:{Path(filename).name or 'file'}"
    return _run(actor=actor, tenant_id=actor.tenant_id, source=source, origin=origin, read=read)


def ingest_git(*, actor: Actor, path: str, service: str | None = None) -> IngestReport:
    """Ingest the commits of a local repository under an ingest root added since the last ingest."""
    require(actor, Action.INGEST_EVENTS)
    return _git(actor, actor.tenant_id, path, service)


def ingest_for_tenant(
    *, tenant_slug: str, source: EventSource, path: str, service: str | None = None
) -> IngestReport:
    """Ingest a file or repository for a tenant as the system (the `revo ingest` command)."""
    tenant = find_tenant(slug=tenant_slug)
    if tenant is None:
        raise NotFound(f"There is no tenant {tenant_slug!r}.")
    if source is EventSource.GIT:
        return _git(None, tenant.id, path, service)
    return _file(None, tenant.id, source, path, service)
