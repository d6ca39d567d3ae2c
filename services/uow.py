"""The unit of work: one session, one transaction, one explicit commit per service call."""

from __future__ import annotations

from functools import lru_cache
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.errors import DomainError
from domain.review_policy import PolicyRefusal
from services import db
from services.actor import Actor
from services.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidTransition,
    NotFound,
    PolicyRefused,
)
from services.scoping import TENANT_KEY

M = TypeVar("M")


class UnitOfWork:
    """Open in ``__enter__``, roll back and close in ``__exit__``; ``commit()`` once, explicitly.

    ``actor=None`` is system work (seeding, migrations, the worker's claim loop) and is not
    tenant-scoped unless ``tenant_id`` is given (the worker executing one tenant's run);
    everything a person does goes through an actor.
    """

    session: Session

    def __init__(
        self, actor: Actor | None, *, readonly: bool = False, tenant_id: int | None = None
    ) -> None:
        self.actor = actor
        self.readonly = readonly
        self.tenant_id = actor.tenant_id if actor else tenant_id
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        factory = db.session_factory()
        if self.readonly:
            self.session = factory(bind=_deferred(factory.kw["bind"]))
        else:
            self.session = factory()
        self.session.info[TENANT_KEY] = self.tenant_id
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if exc is not None:
            translated = translate(exc)
            if translated is not None:
                raise translated from exc

    def get(self, model: type[M], row_id: int, *, missing: str) -> M:
        """The row of this unit's tenant with this id, or NotFound(missing)."""
        row: Any = self.session.get(model, row_id)
        if row is None or row.tenant_id != self.tenant_id or self.tenant_id is None:
            raise NotFound(missing)
        return row  # type: ignore[no-any-return]

    def update_guarded(self, model: type[Any], *where: Any, **values: Any) -> int:
        """UPDATE the rows ``where`` holds with ``values`` and a bumped ``row_version`` (so
        optimistic readers see the change), without touching loaded objects; the rows changed."""
        result = self.session.execute(
            update(model)
            .where(*where)
            .values(**values, row_version=model.row_version + 1)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def commit(self) -> None:
        """Commit the one transaction of this unit of work."""
        if self.readonly:
            raise RuntimeError("a read-only unit of work does not commit")
        self.session.commit()
        self._committed = True


@lru_cache(maxsize=8)
def _deferred(engine: Engine) -> Engine:
    # Built once per engine: execution_options() makes a new option engine on every call.
    return engine.execution_options(sqlite_begin="DEFERRED")


def translate(exc: BaseException) -> Exception | None:
    """The service error a database or domain exception stands for, if any."""
    if isinstance(exc, StaleDataError):
        return Conflict("Someone else changed this record since you loaded it. Reload and retry.")
    if isinstance(exc, PolicyRefusal):
        return PolicyRefused(str(exc), rule=exc.rule.value)
    if isinstance(exc, DomainError):
        return InvalidTransition(str(exc))
    if isinstance(exc, IntegrityError):
        return Conflict(
            "This change clashes with data that already exists (a duplicate or a missing "
            "reference). Reload and retry."
        )
    if isinstance(exc, OperationalError | DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable("The database connection was lost. Try again in a moment.")
    if isinstance(exc, OperationalError):
        text = str(exc.orig) if exc.orig else str(exc)
        if "locked" in text or "could not connect" in text or "Connection refused" in text:
            return DatabaseUnavailable(f"The database is busy or unreachable ({text.strip()}).")
    return None
