"""Ingest files, uploads and git repositories for a tenant; one report per ingest."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

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
from services.ingest.schema import ParseResult, Sink
from services.ingest.writer import BatchWriter
from services.perf import gc_paused
from services.permissions import Action, require
from services.tenants import find_tenant
from services.uow import UnitOfWork

FILE_SOURCES = (EventSource.CI, EventSource.LOGS, EventSource.METRICS, EventSource.TRACES)


class SourceFailed(ServiceError):
    title = "Source unavailable"


class IngestReport(BaseModel):
    """What one ingest made of its input: records = inserted + duplicates + quarantined + skipped.

    Events that stand for no record of their own (error spikes, one event per failed test of
    a suite) are counted apart, in ``derived_inserted`` and ``derived_duplicates``.
    """

    source: EventSource
    origin: str
    records: int
    inserted: int
    duplicates: int
    quarantined: int
    skipped: int
    derived_inserted: int = 0
    derived_duplicates: int = 0
    breaker_state: BreakerState
    seconds: float


Feed = Callable[[Sink, datetime], str | None]


def read_stream(
    source: EventSource, stream: IO[bytes], out: Sink, *, settings: Settings, now: datetime,
    service: str | None,
) -> None:  # fmt: skip
    """Hand what the source's connector reads from a binary stream to the sink, as it goes."""
    skew = timedelta(seconds=settings.ingest_future_skew_s)
    limit = settings.ingest_max_line_bytes
    if source is EventSource.LOGS:
        logs.read(stream, out, now=now, skew=skew, max_line=limit)
    elif source is EventSource.METRICS:
        metrics.read(stream, out, now=now, skew=skew, max_line=limit)
    elif source is EventSource.TRACES:
        traces.read(stream, out, now=now, skew=skew, max_line=limit,
                    slow_ms=settings.ingest_slow_span_ms)  # fmt: skip
    elif source is EventSource.CI:
        ci.read(stream, out, now=now, skew=skew, max_line=limit, service=service)
    else:
        raise InvalidInput(f"Files cannot be ingested as {source.value}; use one of "
                           f"{', '.join(s.value for s in FILE_SOURCES)}.")  # fmt: skip


def parse_bytes(
    source: EventSource, data: bytes, *, settings: Settings, now: datetime, service: str | None
) -> ParseResult:
    """What the source's connector makes of one file's bytes, in memory."""
    result = ParseResult()
    read_stream(source, io.BytesIO(data), result, settings=settings, now=now, service=service)
    return result


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
    feed: Feed,
    cursor_repo: str | None = None,
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
        state = breaker.admit(
            health,
            now=now,
            cooldown_s=settings.ingest_breaker_cooldown_s,
            threshold=settings.ingest_breaker_threshold,
        )

    def attempt() -> IngestReport:
        # One unit of work: the source is read, checked and written in batches as it streams,
        # and a source that fails part-way rolls all of it back before the retry.
        with gc_paused(), UnitOfWork(actor) as uow:
            s = uow.session
            out = BatchWriter(s, tenant_id=tenant_id, source=source, origin=origin, now=now)
            try:
                tip = feed(out, now)
            except OSError as exc:
                raise breaker.SourceUnavailable(
                    f"cannot read {origin}: {exc.strerror or exc}"
                ) from exc
            out.finish()
            row = store.health_row(s, tenant_id=tenant_id, source=source)
            breaker.succeeded(row, now=now)
            row.runs += 1
            row.events_ingested += out.inserted + out.derived_inserted
            row.duplicates_skipped += out.duplicates + out.derived_duplicates
            row.records_quarantined += out.quarantine_rows
            if cursor_repo is not None:
                _move_cursor(s, tenant_id=tenant_id, repo=cursor_repo, sha=tip, now=now)
            report = IngestReport(
                source=source,
                origin=origin,
                records=out.records,
                inserted=out.inserted,
                duplicates=out.duplicates,
                quarantined=out.quarantined,
                skipped=out.skipped,
                derived_inserted=out.derived_inserted,
                derived_duplicates=out.derived_duplicates,
                breaker_state=row.breaker_state,
                seconds=round(time.perf_counter() - started, 3),
            )
            audit.record(uow, action="events.ingested", entity_type="connector", entity_id=row.id,
                         after=report.model_dump(mode="json"), tenant_id=tenant_id)  # fmt: skip
            uow.commit()
        return report

    try:
        return breaker.retry(
            attempt, attempts=settings.ingest_retry_attempts,
            backoff_s=settings.ingest_retry_backoff_s,
        )  # fmt: skip
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


def _read_file(path: Path, source: EventSource, service: str | None) -> Feed:
    settings = get_settings()

    def feed(out: Sink, now: datetime) -> None:
        with path.open("rb") as stream:
            read_stream(source, stream, out, settings=settings, now=now, service=service)

    return feed


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
                feed=_read_file(resolved, source, service))  # fmt: skip


def _git(actor: Actor | None, tenant_id: int, path: str, service: str | None) -> IngestReport:
    settings = get_settings()
    repo = paths.allowed(path, roots=settings.ingest_root_paths, want_dir=True)
    with UnitOfWork(actor, readonly=True) as uow:
        since = uow.session.scalar(
            select(GitCursor.last_sha).where(
                GitCursor.tenant_id == tenant_id, GitCursor.repo_path == str(repo)
            )
        )
    skew = timedelta(seconds=settings.ingest_future_skew_s)

    def feed(out: Sink, now: datetime) -> str | None:
        try:
            return git.read(repo, out, since_sha=since, now=now, skew=skew, service=service)
        except git.GitError as exc:
            raise breaker.SourceUnavailable(str(exc)) from exc

    return _run(actor=actor, tenant_id=tenant_id, source=EventSource.GIT, origin=str(repo),
                feed=feed, cursor_repo=str(repo))  # fmt: skip


def ingest_file(
    *, actor: Actor, source: EventSource, path: str, service: str | None = None
) -> IngestReport:
    """Ingest a file under an ingest root with the source's connector."""
    require(actor, Action.INGEST_EVENTS)
    return _file(actor, actor.tenant_id, source, path, service)


def ingest_upload(
    *,
    actor: Actor,
    source: EventSource,
    filename: str,
    content: bytes | IO[bytes],
    service: str | None = None,
) -> IngestReport:
    """Ingest an uploaded file (its bytes, or a seekable binary stream) with its connector."""
    require(actor, Action.INGEST_EVENTS)
    settings = get_settings()
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size > _cap_bytes(settings):
        raise _too_big(size, settings)
    if source not in FILE_SOURCES:
        raise InvalidInput(f"Uploads cannot be ingested as {source.value}.")

    def feed(out: Sink, now: datetime) -> None:
        stream.seek(0)
        read_stream(source, stream, out, settings=settings, now=now, service=service)

    origin = f"upload:{Path(filename).name or 'file'}"
    return _run(actor=actor, tenant_id=actor.tenant_id, source=source, origin=origin, feed=feed)


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
