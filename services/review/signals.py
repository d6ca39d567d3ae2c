"""In-process wake-ups when review items change, so long-polling callers need not poll hard.

A listener on every session collects the review items a transaction flushed and, once it
commits, calls whoever subscribed to them. Changes made by another process are not seen here;
waiters still re-read the database on a slow timer for those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from domain.models import ReviewItem

_KEY = "review_items_changed"
_lock = threading.Lock()
_subscribers: dict[int, set[Callable[[], None]]] = {}


def subscribe(item_id: int, callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` (from any thread) after a commit changes the item; returns unsubscribe."""
    with _lock:
        _subscribers.setdefault(item_id, set()).add(callback)

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


def _after_flush(session: Session, _ctx: Any) -> None:
    if not _subscribers:
        return
    ids = {o.id for o in (*session.dirty, *session.new) if isinstance(o, ReviewItem)}
    if ids:
        session.info.setdefault(_KEY, set()).update(ids)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_KEY, None)
    if not ids:
        return
    with _lock:
        callbacks = [cb for i in ids for cb in _subscribers.get(i, ())]
    for callback in callbacks:
        callback()


def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


def install() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


install()
