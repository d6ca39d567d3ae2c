"""The root `revo` app: every sub-command registered in one place, and the one entry point.

`main` runs the commands with click's standalone mode off, so that every failure, bad
arguments included, reaches `cli.errors.report` and becomes one line and an exit code.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer

from cli import audit, db, errors, ingest, models, runs, seed, up, users
from services import maintenance

app = typer.Typer(
    name="revo",
    help="Revo Console operations: migrations, seed data, ingest, the run queue, the console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _settings_first() -> None:
    """Read the REVO_* settings before any command, so a malformed one is named as such."""
    maintenance.check_settings()


app.add_typer(db.db_app, name="db")
app.add_typer(seed.seed_app, name="seed")
app.add_typer(models.models_app, name="models")
app.command("ingest")(ingest.ingest)
app.command("run")(runs.run)
app.command("runs")(runs.runs)
app.command("worker")(runs.worker_command)
app.command("up")(up.up)
app.add_typer(users.users_app, name="users")
app.add_typer(users.tenants_app, name="tenants")
app.add_typer(audit.audit_app, name="audit")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `revo` console script: run one command, return its exit code."""
    try:
        command = typer.main.get_command(app)
        result = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="revo",
            standalone_mode=False,
        )
    except typer.Exit as done:
        return done.exit_code
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            raise
        return errors.report(exc)
    return result if isinstance(result, int) else 0
