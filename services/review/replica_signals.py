"""Wake-ups across console replicas on PostgreSQL: NOTIFY on commit, one LISTEN per process.

Every transaction that changes review items sends ``pg_notify(CHANNEL, '<id>,<id>…')``; it is
transactional, so PostgreSQL delivers it to every listening replica only if the change commits.
One daemon thread per process holds one listening connection (not one per waiting request)
and wakes that process's subscribers. The long-poll's slow re-read stays as the safety net
for a dropped listener.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

log = logging.getLogger("revo.signals")
CHANNEL = "revo_review_items"
RECONNECT_S = 1.0


def notify(session: Session, ids: set[int]) -> None:
    """Queue the notification in the session's transaction (sent by PostgreSQL at commit)."""
    payload = ",".join(str(i) for i in sorted(ids))[:7900]  # NOTIFY payloads stop at 8000 B
    session.connection().exec_driver_sql("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def _conninfo(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _Listener:
    lock = threading.Lock()
    threads: dict[str, threading.Thread] = {}
    ready: dict[str, threading.Event] = {}


def _listen(conninfo: str, wake: Callable[[set[int]], None], ready: threading.Event) -> None:
    failures = 0
    while True:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                ready.set()
                failures = 0
                while True:
                    for note in conn.notifies(timeout=5.0):
                        ids = {int(p) for p in note.payload.split(",") if p.isdigit()}
                        if ids:
                            wake(ids)
        except Exception as exc:  # the database went away: retry; waiters re-read meanwhile
            ready.clear()
            if failures % 60 == 0:  # once an outage, then once a minute
                log.warning("review wake-up listener: %s; retrying", str(exc).strip()[:300])
            failures += 1
            time.sleep(RECONNECT_S)


def ensure_listening(engine: Engine, wake: Callable[[set[int]], None]) -> None:
    """Start this process's listener on the engine's database, once."""
    conninfo = _conninfo(engine)
    with _Listener.lock:
        running = _Listener.threads.get(conninfo)
        if running is not None and running.is_alive():
            return
        ready = _Listener.ready.setdefault(conninfo, threading.Event())
        thread = threading.Thread(
            target=_listen,
            args=(conninfo, wake, ready),
            name="revo-review-listener",
            daemon=True,
        )
        _Listener.threads[conninfo] = thread
        thread.start()


def listening(engine: Engine) -> bool:
    """Whether this process listens for the other replicas' changes on the engine's database."""
    ready = _Listener.ready.get(_conninfo(engine))
    return ready is not None and ready.is_set()
