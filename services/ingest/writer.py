"""The sink an ingest writes through: events in bounded batches, rejects into the quarantine.

A batch the database refuses is written again one event at a time, each in its own
savepoint, so the event the database will not take is quarantined with the database's own
reason and the rest of the batch still lands. Only a lost or locked database (an
OperationalError) ends the ingest, and then the whole unit of work rolls back.
"""

from __future__ import annotations

import gc
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from domain.enums import EventSource, QuarantineStatus
from domain.models import QuarantinedRecord
from services.ingest import store
from services.ingest.schema import EventIn, Rejected, rejected
from services.ingest.values import safe_text

QUARANTINE_KEEP = 1_000
REJECT_BATCH = 200
_REFUSALS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)
_SYSTEMIC = (OperationalError, sqlite3.OperationalError, psycopg.OperationalError)


@dataclass(frozen=True, slots=True)
class Pending:
    position: str
    raw: str
    event: EventIn


class BatchWriter:
    """A connector's sink that writes as it goes and counts what became of every record."""

    def __init__(
        self,
        session: Session,
        *,
        tenant_id: int,
        source: EventSource,
        origin: str,
        now: datetime,
        batch: int = store.CHUNK,
    ) -> None:
        self.session, self.tenant_id, self.source, self.now = session, tenant_id, source, now
        self.origin = safe_text(origin[:500])
        self.batch = batch
        self.records = 0
        self.inserted = self.duplicates = self.quarantined = 0
        self.derived_inserted = self.derived_duplicates = self.derived_refused = 0
        self.quarantine_rows = 0
        self._events: list[Pending] = []
        self._derived: list[Pending] = []
        self._rejects: list[Rejected] = []
        self._not_kept = 0
        self._already = {
            (position, raw)
            for position, raw in session.execute(
                select(QuarantinedRecord.position, QuarantinedRecord.raw).where(
                    QuarantinedRecord.tenant_id == tenant_id,
                    QuarantinedRecord.source == source,
                    QuarantinedRecord.origin == self.origin,
                    QuarantinedRecord.status == QuarantineStatus.PENDING,
                )
            )
        }

    @property
    def skipped(self) -> int:
        """Records that were read, are valid, and made no event."""
        return self.records - self.inserted - self.duplicates - self.quarantined

    def event(self, event: EventIn, *, position: str, raw: str, derived: bool = False) -> None:
        """Queue an event; a full batch is written at once."""
        queue = self._derived if derived else self._events
        queue.append(Pending(position, raw, event))
        if len(queue) >= self.batch:
            self._flush(queue, derived=derived)

    def reject(self, position: str, reason: str, raw: str, service: str | None = None) -> None:
        """Quarantine a record (kept once while pending; past QUARANTINE_KEEP only counted)."""
        self.quarantined += 1
        self._keep(rejected(position, reason, raw, service))

    def finish(self) -> None:
        """Write what is still queued, and a summary row for rejects past the keep limit."""
        self._flush(self._events, derived=False)
        self._flush(self._derived, derived=True)
        if self._not_kept:
            self._keep(
                Rejected(
                    "(rest of file)",
                    f"{self._not_kept:,} more records were rejected and "
                    "not kept; fix the file and ingest it again",
                    "",
                ),
                force=True,
            )
        self._write_rejects()

    def _keep(self, rec: Rejected, *, force: bool = False) -> None:
        if (rec.position, rec.raw) in self._already:
            return
        if self.quarantine_rows >= QUARANTINE_KEEP and not force:
            self._not_kept += 1
            return
        self._already.add((rec.position, rec.raw))
        self.quarantine_rows += 1
        self._rejects.append(rec)
        if len(self._rejects) >= REJECT_BATCH:
            self._write_rejects()

    def _write_rejects(self) -> None:
        self.session.add_all(
            QuarantinedRecord(
                tenant_id=self.tenant_id,
                source=self.source,
                origin=self.origin,
                position=r.position,
                reason=r.reason,
                raw=r.raw,
                service=r.service,
                status=QuarantineStatus.PENDING,
            )
            for r in self._rejects
        )
        self.session.flush()
        self._rejects.clear()

    def _flush(self, queue: list[Pending], *, derived: bool) -> None:
        if not queue:
            return
        try:
            with self.session.begin_nested():
                new = self._insert([p.event for p in queue])
            stored = len(queue)
        except _REFUSALS as exc:
            if isinstance(exc, _SYSTEMIC):
                raise
            new, stored = self._one_by_one(queue, derived=derived)
        if derived:
            self.derived_inserted += new
            self.derived_duplicates += stored - new
        else:
            self.inserted += new
            self.duplicates += stored - new
        queue.clear()
        gc.collect(0)  # the ingest runs with the collector paused; keep the young heap small

    def _insert(self, events: list[EventIn]) -> int:
        return store.insert_events(
            self.session, tenant_id=self.tenant_id, events=events, now=self.now
        )

    def _one_by_one(self, queue: list[Pending], *, derived: bool) -> tuple[int, int]:
        new = stored = 0
        for p in queue:
            try:
                with self.session.begin_nested():
                    new += self._insert([p.event])
                stored += 1
            except _REFUSALS as exc:
                if isinstance(exc, _SYSTEMIC):
                    raise
                if derived:
                    self.derived_refused += 1
                else:
                    self.quarantined += 1
                self._keep(
                    rejected(
                        p.position,
                        f"the database refused it: {_first_line(exc)}",
                        p.raw,
                        p.event.service,
                    )
                )
        return new, stored


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0][:300] if lines else type(orig).__name__
