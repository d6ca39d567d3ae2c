"""In-process wake-ups when review items change, so long-polling callers need not poll hard.

A listener on every session collects the review items a transaction flushed and, once it
commits, calls whoever subscribed to them. On PostgreSQL the transaction also NOTIFYs the other
replicas (``replica_signals``); on SQLite there is one console process. Waiters still re-read
the database on a slow timer, for a change no signal announced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from domain.models import ReviewItem
from services import db
from services.review import replica_signals

_KEY = "review_items_changed"
_lock = threading.Lock()
_subscribers: dict[int, set[Callable[[], None]]] = {}


def subscribe(item_id: int, callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` (from any thread) after a commit changes the item; returns unsubscribe."""
    with _lock:
        _subscribers.setdefault(item_id, set()).add(callback)
    engine = db.current_engine()
    if engine.dialect.name == "postgresql":
        replica_signals.ensure_listening(engine, _wake)

    def unsubscribe() -> None:
        with _lock:
            callbacks = _subscribers.get(item_id)
            if callbacks is not None:
                callbacks.discard(callback)
                if not callbacks:
                    del _subscribers[item_id]

    return unsubscribe


def waiting() -> int:
    """How many items someone is waiting on (for metrics and tests)."""
    with _lock:
        return len(_subscribers)


def subscribed(item_id: int) -> bool:
    """Whether someone waits on the item."""
    with _lock:
        return item_id in _subscribers


def _wake(ids: set[int]) -> None:
    with _lock:
        callbacks = [cb for i in ids for cb in _subscribers.get(i, ())]
    for callback in callbacks:
        callback()


def _after_flush(session: Session, _ctx: Any) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    if not _subscribers and not postgres:
        return
    ids = {o.id for o in (*session.dirty, *session.new) if isinstance(o, ReviewItem)}
    if not ids:
        return
    seen: set[int] = session.info.setdefault(_KEY, set())
    if postgres and ids - seen:
        replica_signals.notify(session, ids - seen)
    seen.update(ids)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_KEY, None)
    if ids:
        _wake(ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


install()
