"""Operator maintenance: settings check, database status, migrations with a plan, error meaning.

What the `revo` command needs from the database layer, so that it imports neither SQLAlchemy
nor Alembic nor the domain. Read-only calls never create a database: a SQLite file that is not
there is reported, not made.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from domain.models import Tenant
from services import db, migrate, uow
from services.config import Settings, get_settings
from services.errors import (
    DatabaseUnavailable,
    InvalidInput,
    InvalidSettings,
    NotFound,
    ServiceError,
)


class DatabaseStatus(BaseModel):
    """Where the database is and which schema revision it has."""

    location: str
    revision: str | None
    head: str | None
    tenants: int | None  # None when the schema has no tenants table yet

    @property
    def is_current(self) -> bool:
        return self.revision is not None and self.revision == self.head


class DowngradePlan(BaseModel):
    """What a downgrade would undo, for the operator to confirm before anything is dropped."""

    location: str
    current: str | None
    target: str | None  # None is base: every table dropped
    undo: list[str]
    tenants: int | None


def check_settings() -> Settings:
    """The process's settings, or InvalidSettings naming each malformed REVO_* value."""
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(_problem(e["loc"], e["msg"]) for e in exc.errors())
        raise InvalidSettings(f"Bad setting: {problems}") from exc


def _problem(loc: tuple[int | str, ...], msg: str) -> str:
    msg = msg.removeprefix("Value error, ")
    name = f"REVO_{'_'.join(str(p) for p in loc).upper()}" if loc else ""
    return msg if not name or msg.startswith(name) else f"{name}: {msg}"


def database_url() -> str:
    """The configured database URL, absolute for SQLite files; InvalidInput if malformed."""
    return db.absolute_url(check_settings().database_url).render_as_string(hide_password=False)


def database_status(*, url: str) -> DatabaseStatus:
    """The schema revision of an existing database (NotFound if a SQLite file is missing)."""
    _require_existing(url)
    return _status(url)


def connect(*, url: str) -> DatabaseStatus:
    """Point the services at an existing database whose schema is at the newest revision."""
    status = database_status(url=url)
    if not status.is_current:
        raise InvalidInput(
            f"The database schema at {status.location} is not up to date "
            f"({status.revision or 'empty'}, newest {status.head}): run 'revo db upgrade' first."
        )
    db.configure(url)
    return status


def upgrade_database(*, url: str, revision: str = "head") -> DatabaseStatus:
    """Create the database if needed and upgrade it to a revision (default: the newest)."""
    _make_sqlite_folder(url)
    with _migration_errors(revision):
        migrate.upgrade(url, revision)
    return _status(url)


def plan_downgrade(*, url: str, revision: str = "-1") -> DowngradePlan:
    """What downgrading an existing database to a revision would undo; nothing is changed."""
    _require_existing(url)
    status = _status(url)
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    with _migration_errors(revision):
        chain = [r.revision for r in script.iterate_revisions(status.revision, "base")]
        target = _downgrade_target(script, chain, revision, status.revision)
    undo = chain[: chain.index(target)] if target else chain
    return DowngradePlan(
        location=status.location,
        current=status.revision,
        target=target,
        undo=undo,
        tenants=status.tenants,
    )


def downgrade_database(*, url: str, plan: DowngradePlan) -> DatabaseStatus:
    """Carry out a confirmed downgrade plan; InvalidInput (nothing done) if the database moved."""
    now = database_status(url=url)
    if now.revision != plan.current:
        raise InvalidInput(
            f"The database moved to {now.revision or 'base'} since the plan was made; nothing done."
        )
    if plan.undo:
        with _migration_errors(plan.target or "base"):
            migrate.downgrade(url, plan.target or "base")
    return _status(url)


def explain(exc: BaseException) -> ServiceError | None:
    """The service error a database, migration or validation exception stands for, if any."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable(f"Cannot use the database: {_one_line(exc)}")
    translated = uow.translate(exc)
    if isinstance(translated, ServiceError):
        return translated
    if isinstance(exc, DBAPIError):
        return InvalidInput(f"The database refused it: {_one_line(exc)}")
    if isinstance(exc, SQLAlchemyError):
        return InvalidInput(f"Database error: {_one_line(exc)}")
    if isinstance(exc, CommandError | RevisionError):
        return InvalidInput(f"Migration error: {exc}")
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or exc.title
        return InvalidInput(f"Invalid {exc.title} ({where}): {first['msg']}")
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return InvalidInput(f"{exc.strerror or exc}{where}")
    return None


# -- helpers -------------------------------------------------------------------------------

_RELATIVE = re.compile(r"-(\d+)")


def _downgrade_target(
    script: ScriptDirectory, chain: list[str], revision: str, current: str | None
) -> str | None:
    if revision == "base":
        return None
    if current is None:
        raise InvalidInput("The database is empty (base): there is no migration to undo.")
    relative = _RELATIVE.fullmatch(revision)
    if relative:
        steps = int(relative.group(1))
        if not 0 < steps <= len(chain):
            raise InvalidInput(f"Cannot undo {steps} migration(s): the database has {len(chain)}.")
        return chain[steps] if steps < len(chain) else None
    found = script.get_revision(revision)
    if found is None or found.revision not in chain:
        raise InvalidInput(
            f"Revision {revision!r} is not at or below the database's revision {current}."
        )
    return found.revision


@contextmanager
def _migration_errors(revision: str) -> Iterator[None]:
    """Alembic's resolution errors (unknown, ambiguous, unreachable revision) are bad input."""
    try:
        yield
    except (CommandError, RevisionError) as exc:
        raise InvalidInput(f"Unknown or unreachable revision {revision!r}: {exc}") from exc


def _sqlite_file(url: str) -> Path | None:
    parsed = db.absolute_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in {"", ":memory:"}:
        return None
    return None if database.startswith("file:") else Path(database)


def _require_existing(url: str) -> None:
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        what = "is a folder, not a database" if path.is_dir() else "does not exist"
        raise NotFound(
            f"The SQLite database {path} {what}: check REVO_DATABASE_URL "
            "(or create it with 'revo db upgrade')."
        )


def _make_sqlite_folder(url: str) -> None:
    path = _sqlite_file(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            f"Cannot create the SQLite database {path}: {exc.strerror or exc} ({exc.filename})."
        ) from exc


def _status(url: str) -> DatabaseStatus:
    engine = db.get_engine(url)
    tenants: int | None = None
    if inspect(engine).has_table("tenants"):
        with engine.connect() as conn:
            tenants = int(conn.scalar(select(func.count()).select_from(Tenant)) or 0)
    return DatabaseStatus(
        location=db.absolute_url(url).render_as_string(hide_password=True),
        revision=migrate.current(url),
        head=migrate.head(),
        tenants=tenants,
    )


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return " ".join(text.split()) or exc.__class__.__name__
