"""The `revo` command: bad input prints one clear line and exits non-zero; nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def revo(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REVO_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("revo: ")
    return lines[0]


def test_upgrade_seed_and_a_second_seed_is_refused_without_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert revo("db", "upgrade", url=url).returncode == 0
    assert revo("db", "current", url=url).stdout.strip() != "base (empty)"
    first = revo("seed", "demo", url=url)
    assert first.returncode == 0, first.stderr
    line = _one_error_line(revo("seed", "demo", url=url))
    assert "already present" in line


def test_seeding_an_unmigrated_database_says_to_upgrade_first(tmp_path: Path) -> None:
    line = _one_error_line(revo("seed", "demo", url=f"sqlite:///{tmp_path / 'empty.db'}"))
    assert "revo db upgrade" in line


@pytest.mark.parametrize(
    ("args", "url", "expected"),
    [
        (("frobnicate",), "sqlite:///x.db", "invalid choice"),
        (("db", "current"), "mysql://u@h/db", "use sqlite:/// or postgresql+psycopg://"),
        (("db", "current"), "not a url", "is not a database URL"),
        (
            ("db", "current"),
            "postgresql+psycopg://postgres@127.0.0.1:1/x",
            "cannot use the database",
        ),
        (("seed", "bulk", "--runs", "-5"), "sqlite:///x.db", "zero or more"),
        (("up", "--address", "0.0.0.0"), "sqlite:///x.db", "non-loopback"),
    ],
)
def test_bad_input_prints_one_clear_line_and_exits_non_zero(
    args: tuple[str, ...], url: str, expected: str, tmp_path: Path
) -> None:
    if url == "sqlite:///x.db":
        url = f"sqlite:///{tmp_path / 'x.db'}"
        revo("db", "upgrade", url=url)
    assert expected in _one_error_line(revo(*args, url=url))
