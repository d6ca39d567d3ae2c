"""`revo audit verify|anchor|purge`: prove the chain intact, anchor its head, remove it openly."""

from __future__ import annotations

import getpass
from typing import Annotated, NoReturn

import typer

from services import audit_anchors, audit_integrity
from services.errors import ServiceError

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@audit_app.callback()
def _audit() -> None:
    """The tamper-evident audit log."""


def _fail(message: str) -> NoReturn:
    typer.secho(f"revo: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


@audit_app.command("verify")
def verify(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this workspace's slug (default: all).")
    ] = None,
    since_checkpoint: Annotated[
        bool,
        typer.Option(
            "--since-checkpoint", help="Start at the newest signed checkpoint, not at genesis."
        ),
    ] = False,
) -> None:
    """Walk each workspace's hash chain; name the first broken entry and exit 1 if any."""
    try:
        reports = audit_integrity.verify(tenant_slug=tenant, full=not since_checkpoint)
    except ServiceError as exc:
        _fail(exc.message)
    broken = False
    for report in reports:
        if report.notice:
            typer.secho(f"{report.tenant_slug}: {report.notice}", err=True, fg=typer.colors.YELLOW)
        if report.ok:
            when = report.verified_at.isoformat() if report.verified_at else "-"
            start = f", from checkpoint {report.from_checkpoint}" if report.from_checkpoint else ""
            typer.echo(
                f"{report.tenant_slug}: verified {report.entries} entries "
                f"(up to entry {report.verified_seq} at {when}{start})"
            )
            continue
        broken = True
        where = f" (id {report.broken_entry_id})" if report.broken_entry_id is not None else ""
        typer.secho(
            f"{report.tenant_slug}: BROKEN at entry {report.broken_seq}{where}: "
            f"{report.problem}; verified up to entry {report.verified_seq}",
            err=True,
            fg=typer.colors.RED,
        )
    if broken:
        raise typer.Exit(code=1)


@audit_app.command("anchor")
def anchor(
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this workspace's slug (default: all).")
    ] = None,
) -> None:
    """Sign each workspace's chain head into a checkpoint and a line of the anchor file."""
    try:
        anchored = audit_anchors.anchor(tenant_slug=tenant)
    except ServiceError as exc:
        _fail(exc.message)
    for head in anchored:
        state = "anchored" if head.written else "already anchored"
        typer.echo(f"{head.tenant_slug}: {state} at entry {head.seq} (key {head.key_id})")


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "operator"


@audit_app.command("purge")
def purge(
    tenant: Annotated[str, typer.Option("--tenant", help="The workspace's slug.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete its audit entries.")] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the purge record).")] = "",
) -> None:
    """Delete one workspace's audit entries, keeping a record of the purge (who, how many, hash)."""
    if not yes:
        _fail(f"purging the audit of {tenant} cannot be undone; add --yes to go ahead")
    try:
        done = audit_integrity.purge(
            tenant_slug=tenant, operator=_operator(), reason=reason or None
        )
    except ServiceError as exc:
        _fail(exc.message)
    typer.echo(
        f"purged {done.entries} audit entries of {done.tenant_slug} "
        f"(last entry {done.last_seq or 0}, hash {done.last_hash or '-'})"
    )
