"""The `revo` command: bad input prints one clear line and exits non-zero; read-only commands
create nothing; destructive ones ask; bulk seeding keeps out of real tenants.

Most commands run in this process through `cli.app.main` (what the `revo` script and
`python -m cli` call), with their own environment and captured output; a real process runs
where it matters: at a terminal, for `revo up`, and to check `python -m cli` itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import text

from cli.app import main as revo_main
from services import db, migrate
from services.config import get_settings
from services.tenants import TenantWithUsers
from tests.scripted_llm import ScriptedLLM, refused_url

ROOT = Path(__file__).resolve().parents[2]


def revo(*args: str, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one command in this process, as the `revo` script would, with its own settings."""
    out, err = io.StringIO(), io.StringIO()
    get_settings.cache_clear()
    try:
        with (
            mock.patch.dict(os.environ, {"REVO_DATABASE_URL": url, **env}),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = revo_main(list(args))
    finally:
        get_settings.cache_clear()
    return subprocess.CompletedProcess(["revo", *args], code, out.getvalue(), err.getvalue())


def revo_process(
    *args: str, url: str, stdin: int | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run one command as a real `python -m cli` process."""
    environ = {**os.environ, "REVO_DATABASE_URL": url, **env}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=environ,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("revo: ")
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def _scalar(url: str, sql: str) -> object:
    with db.get_engine(url).connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.fixture
def populated_url(empty_url: str) -> str:
    """The test's own database, migrated and holding the demo tenants."""
    migrate.upgrade(empty_url)
    seeded = revo("seed", "demo", url=empty_url)
    assert seeded.returncode == 0, seeded.stderr
    return empty_url


def test_upgrade_seed_and_a_second_seed_is_refused_without_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert revo("db", "upgrade", url=url).returncode == 0
    assert revo("db", "current", url=url).stdout.strip() == migrate.head()
    first = revo("seed", "demo", url=url)
    assert first.returncode == 0, first.stderr
    line = _one_error_line(revo("seed", "demo", url=url))
    assert "already present" in line


def test_seeding_an_unmigrated_database_says_to_upgrade_first(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    line = _one_error_line(revo("seed", "demo", url=f"sqlite:///{path}"))
    assert "revo db upgrade" in line


@pytest.mark.parametrize(
    ("args", "url", "expected"),
    [
        (("frobnicate",), "sqlite:///x.db", "no such command 'frobnicate'"),
        (("db", "current"), "mysql://u@h/db", "use sqlite:/// or postgresql+psycopg://"),
        (("db", "current"), "not a url", "is not a database url"),
        (
            ("db", "current"),
            "postgresql+psycopg://postgres@127.0.0.1:1/x",
            "cannot use the database",
        ),
        (("seed", "bulk", "--runs", "-5"), "sqlite:///x.db", "'--runs'"),
        (("runs", "--tenant", "north", "--status", "bogus"), "sqlite:///x.db", "'--status'"),
        (("ingest", "mail", "f.log", "--tenant", "north"), "sqlite:///x.db", "'source'"),
        (("run", "sdr", "--tenant", "north", "--as", "a@b.c"), "sqlite:///x.db", "'--subject'"),
        (("up", "--address", "0.0.0.0"), "sqlite:///x.db", "non-loopback"),
        (("db", "current"), "sqlite:///x.db", "revo_llm_timeout_s"),
    ],
)
def test_bad_input_prints_one_clear_line_and_exits_non_zero(
    args: tuple[str, ...], url: str, expected: str, tmp_path: Path
) -> None:
    env = {"REVO_LLM_TIMEOUT_S": "soon"} if expected == "revo_llm_timeout_s" else {}
    if url == "sqlite:///x.db":
        url = f"sqlite:///{tmp_path / 'x.db'}"
        revo("db", "upgrade", url=url)
    run = revo_process if args[0] == "up" else revo
    assert expected in _one_error_line(run(*args, url=url, **env)).lower()


def test_python_m_cli_is_the_same_command_and_never_prints_a_traceback(tmp_path: Path) -> None:
    result = revo_process("frobnicate", url=f"sqlite:///{tmp_path / 'x.db'}")
    assert "no such command 'frobnicate'" in _one_error_line(result).lower()
    shown = revo_process("--help", url=f"sqlite:///{tmp_path / 'x.db'}")
    assert shown.returncode == 0 and "Usage: revo" in shown.stdout


def test_every_command_has_help() -> None:
    commands = [
        (), ("db",), ("db", "upgrade"), ("db", "downgrade"), ("db", "current"),
        ("seed",), ("seed", "demo"), ("seed", "bulk"), ("ingest",), ("run",), ("runs",),
        ("worker",), ("up",), ("models",), ("models", "list"), ("models", "pull"),
    ]  # fmt: skip
    for command in commands:
        shown = revo(*command, "--help", url="sqlite:///unused.db")
        assert shown.returncode == 0, (command, shown.stderr)
        assert "Usage: revo" in shown.stdout
    assert not (ROOT / "unused.db").exists()


# -- the defects of issue 11 section 5, one test each ---------------------------------------


@pytest.mark.parametrize("action", ["upgrade", "downgrade"])
def test_an_unknown_revision_is_one_line_and_changes_nothing(empty_url: str, action: str) -> None:
    migrate.upgrade(empty_url)
    extra = ("--yes",) if action == "downgrade" else ()
    line = _one_error_line(revo("db", action, "nosuchrev", *extra, url=empty_url))
    assert "'nosuchrev'" in line
    assert migrate.current(empty_url) == migrate.head()


def test_a_subject_id_beyond_64_bits_is_refused_as_a_bad_argument(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str
) -> None:
    args = ("run", "sdr", "--subject", "99999999999999999999", "--tenant", "north", "--as", "a@b.c")
    result = revo(*args, url=db_url)
    assert result.returncode == 2
    assert "'--subject'" in _one_error_line(result)
    assert _scalar(db_url, "SELECT count(*) FROM agent_runs") == 0


@pytest.mark.parametrize("command", [("db", "upgrade"), ("db", "current"), ("up",)])
def test_a_sqlite_path_that_cannot_be_created_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'sub' / 'revo.db'}"
    run = revo_process if command == ("up",) else revo
    line = _one_error_line(run(*command, url=url))
    assert str(blocker) in line
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize(
    "command",
    [("db", "current"), ("runs", "--tenant", "acme"), ("seed", "demo"), ("db", "downgrade", "-y")],
)
def test_commands_on_a_mistyped_sqlite_path_create_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    typo = tmp_path / "vra" / "revo.db"
    line = _one_error_line(revo(*command, url=f"sqlite:///{typo}"))
    assert str(typo) in line and "does not exist" in line
    assert list(tmp_path.iterdir()) == []


def test_downgrade_to_base_without_a_terminal_or_yes_refuses_and_keeps_the_data(
    populated_url: str,
) -> None:
    line = _one_error_line(revo("db", "downgrade", "base", url=populated_url))
    assert "--yes" in line
    assert migrate.current(populated_url) == migrate.head()
    assert _scalar(populated_url, "SELECT count(*) FROM tenants") == 2


def _at_a_terminal(answer: str, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdin on a pseudo-terminal that has `answer` typed into it."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode())
        return revo_process(*args, url=url, stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)


def test_downgrade_at_a_terminal_asks_and_a_no_keeps_the_data(populated_url: str) -> None:
    result = _at_a_terminal("n\n", populated_url, "db", "downgrade", "base")
    assert result.returncode == 1
    assert "2 tenant(s)" in result.stderr and "not confirmed" in result.stderr
    assert _scalar(populated_url, "SELECT count(*) FROM tenants") == 2


def test_downgrade_at_a_terminal_goes_ahead_on_yes_and_with_the_yes_flag(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    one_step = _at_a_terminal("y\n", empty_url, "db", "downgrade")
    assert one_step.returncode == 0, one_step.stderr
    assert migrate.current(empty_url) not in {None, migrate.head()}
    to_base = revo("db", "downgrade", "base", "--yes", url=empty_url)
    assert to_base.returncode == 0, to_base.stderr
    assert to_base.stdout.strip() == "database at base (empty)"
    assert migrate.current(empty_url) is None


def test_bulk_seeding_refuses_a_tenant_with_real_data_and_writes_nothing(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str
) -> None:
    args = ("seed", "bulk", "--runs", "20", "--review-items", "5", "--events", "5")
    line = _one_error_line(revo(*args, "--tenant", "north", url=db_url))
    assert "'north'" in line and "real data" in line
    for table in ("agent_runs", "review_items", "events", "llm_calls"):
        assert _scalar(db_url, f"SELECT count(*) FROM {table}") == 0
    for _ in range(2):  # its own tenant, created by the first run, takes more rows
        done = revo(*args, "--tenant", "loadtest", url=db_url)
        assert done.returncode == 0, done.stderr
    with db.get_engine(db_url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.slug, count(*) FROM agent_runs r JOIN tenants t ON t.id = r.tenant_id "
                "GROUP BY t.slug"
            )
        ).all()
    assert [tuple(r) for r in rows] == [("loadtest", 40)]


def test_a_service_validation_error_is_not_reported_as_a_bad_setting(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    good = '{"ts": "2026-01-01T00:00:00Z", "level": "error", "service": "api", "message": "ok"}'
    bad = '{"ts": "2026-01-01T00:00:01Z", "level": "error", "service": "api", "message": "\\ud800"}'
    log.write_text(f"{good}\n{bad}\n")
    result = revo(
        "ingest", "logs", str(log), "--tenant", "north", url=db_url, REVO_INGEST_ROOTS=str(tmp_path)
    )
    assert "bad setting" not in result.stderr.lower()
    assert "Traceback" not in result.stderr
    if result.returncode != 0:
        _one_error_line(result)


def test_models_lists_the_server_s_models_and_a_dead_server_is_one_line(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str
) -> None:
    server = ScriptedLLM(models=["llama3.2:latest", "qwen2.5:0.5b"])
    try:
        pulled = revo(
            "models",
            "pull",
            "mistral",
            "--tenant",
            "north",
            url=db_url,
            REVO_LLM_BASE_URL=server.url,
        )
        listed = revo(
            "models", "list", "--tenant", "north", url=db_url, REVO_LLM_BASE_URL=server.url
        )
    finally:
        server.close()
    assert pulled.returncode == 0 and pulled.stdout.strip() == "pulled mistral", pulled.stderr
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "llama3.2:latest",
        "qwen2.5:0.5b",
        "mistral",
    ]
    assert _scalar(db_url, "SELECT count(*) FROM audit_entries WHERE action LIKE '%pull%'") == 1
    dead = revo("models", "list", "--tenant", "north", url=db_url, REVO_LLM_BASE_URL=refused_url())
    assert "ollama" in _one_error_line(dead).lower()
    unknown = revo("models", "list", "--tenant", "nosuch", url=db_url)
    assert "nosuch" in _one_error_line(unknown)
