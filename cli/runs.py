"""`revo run`, `revo runs`, `revo worker`: the agent run queue from the terminal."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from cli.output import note
from services import maintenance, tenants
from services import runs as runs_service

MAX_ID = 2**63 - 1  # the ids are 64-bit in both engines

Tenant = Annotated[str, typer.Option(help="Tenant slug.")]
ListTenant = Annotated[str, typer.Option(help="Tenant slug (reads as its first active admin).")]


def run(
    agent: Annotated[runs_service.AgentName, typer.Argument(help="Which agent to run.")],
    subject: Annotated[
        int, typer.Option(min=1, max=MAX_ID, help="Id of the lead, deal, invoice... to work on.")
    ],
    tenant: Tenant,
    as_: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="EMAIL",
            help="Who triggers the run (a user of the tenant): four-eyes rules then apply to them.",
        ),
    ],
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: the same key returns the same run.")
    ] = None,
) -> None:
    """Enqueue an agent run as a named user; a worker (or the console's embedded one) runs it."""
    maintenance.connect(url=maintenance.database_url())
    actor = tenants.member_actor(slug=tenant, email=as_)
    queued = runs_service.enqueue(actor=actor, agent=agent, subject_id=subject, idempotency_key=key)
    print(
        f"run #{queued.id} {queued.agent.value} on {queued.subject_type} "
        f"#{queued.subject_id}: {queued.status}"
    )


def runs(
    tenant: ListTenant,
    status: Annotated[
        runs_service.RunStatus | None, typer.Option(help="Only runs in this status.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many runs (at most 500).")] = 50,
) -> None:
    """List the latest agent runs with status, attempts and error."""
    maintenance.connect(url=maintenance.database_url())
    actor = tenants.admin_actor(slug=tenant)
    rows = runs_service.list_runs(actor=actor, status=status, limit=limit)
    print(f"{'id':>6}  {'agent':<12} {'subject':<18} {'status':<10} {'tries':>5}  error")
    for r in rows:
        subject = f"{r.subject_type} #{r.subject_id}"
        error = (r.error or "").splitlines()[0][:60] if r.error else ""
        tries = f"{r.attempts}/{r.max_attempts}"
        print(
            f"{r.id:>6}  {r.agent.value:<12} {subject:<18} {r.status.value:<10} {tries:>5}  {error}"
        )


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Drain the queue, then exit.")] = False,
    id: Annotated[
        str | None, typer.Option("--id", help="Worker id shown on its leases (default host:pid).")
    ] = None,
) -> None:
    """Claim and execute agent runs until stopped (SIGTERM/SIGINT finish the current run)."""
    from services import logs, run_lease, worker  # the LLM client behind it is slow to import

    logs.configure()
    maintenance.connect(url=maintenance.database_url())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    wid = id or run_lease.default_worker_id()
    note(f"worker {wid} started")
    done = worker.run_worker(worker_id=wid, once=once, stop=stop)
    note(f"worker {wid} stopped after {done} run(s)")
