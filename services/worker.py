"""Workers: claim runs with a lease (services.run_lease), execute them, drain the queue; and
between runs the review sweep, due schedules and the notification outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from domain.base import utcnow
from services import audit_anchors, logs, schedule_firing
from services.agents.runner import execute
from services.config import get_settings
from services.errors import DatabaseUnavailable
from services.llm.client import get_client
from services.notify import jobs as notify_jobs
from services.periodic import Periodic
from services.review import drafts
from services.run_lease import Waiting, claim_next, default_worker_id

log = logging.getLogger(__name__)


def run_worker(
    *,
    worker_id: str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    lease_s: float | None = None,
    poll_s: float | None = None,
) -> int:
    """Claim and execute runs until stopped (``once``: until none is claimable or the model
    is unreachable)."""
    settings = get_settings()
    wid = worker_id or default_worker_id()
    lease = lease_s or settings.worker_lease_s
    poll = poll_s or settings.worker_poll_s
    halt = stop or threading.Event()
    logs.bind(worker=wid)
    jobs = (
        Periodic("review sweep", drafts.sweep, settings.review_sweep_s),
        # due schedule occurrences become queued runs, once each
        Periodic("schedule tick", lambda: schedule_firing.tick(wid), schedule_firing.TICK_S),
        # sign each chain head into a checkpoint and an anchor line (not at every restart)
        Periodic(
            "audit anchor",
            audit_anchors.tick,
            settings.audit_anchor_interval_s,
            delay_s=min(settings.audit_anchor_interval_s, 60.0),
        ),
    )
    next_notify = 0.0
    done = 0
    while not halt.is_set():
        for job in jobs:
            job.maybe_run()
        if time.monotonic() >= next_notify:  # the outbox, digests and alert rules
            next_notify = time.monotonic() + settings.notify_tick_s
            notify_jobs.tick(worker_id=wid, now=utcnow())
        if not once and get_client().breaker.is_open:
            halt.wait(poll)  # the model server is down: leave the runs queued meanwhile
            continue
        try:
            claim = claim_next(wid, lease)
        except DatabaseUnavailable:
            if once:
                raise
            log.warning("worker %s cannot reach the database; waiting", wid, exc_info=True)
            halt.wait(poll * 5)
            continue
        if claim is None:
            if once:
                break
            halt.wait(poll)
            continue
        outcome = execute(claim)
        done += 1
        if once and outcome is Waiting.FOR_MODEL:
            break  # the model is unreachable: draining further would only spin
    return done


@dataclass(frozen=True)
class EmbeddedWorker:
    thread: threading.Thread
    stop: threading.Event


def _embedded_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            run_worker(worker_id=f"embedded:{default_worker_id()}", stop=stop)
        except Exception:  # the console must outlive any worker failure; try again shortly
            log.exception("embedded worker crashed; restarting")
            stop.wait(5)


@lru_cache(maxsize=1)
def start_embedded_worker() -> EmbeddedWorker | None:
    """Start the console's in-process worker thread once per process (if the setting says so)."""
    if not get_settings().embedded_worker:
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=_embedded_loop, args=(stop,), daemon=True, name="revo-embedded-worker"
    )
    thread.start()
    return EmbeddedWorker(thread=thread, stop=stop)
