"""`revo up`: migrate, seed an empty database with demo data, run the console (demo sign-in)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import local_server
from cli.output import CliError, note
from services import auth, maintenance
from services.config import get_settings
from services.seed import demo

ROOT = Path(__file__).resolve().parent.parent


def up(
    address: Annotated[str, typer.Option(help="Listen address (loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535, help="Listen port.")] = 8501,
) -> None:
    """Migrate, seed demo data into an empty database, then run the console."""
    if not auth.is_loopback(address):
        raise CliError(f"refusing to start in demo mode on non-loopback address {address}")
    if get_settings().env == "production":
        raise CliError("'revo up' is for local use; it refuses to run with REVO_ENV=production")
    url = maintenance.database_url()
    status = maintenance.upgrade_database(url=url)
    maintenance.connect(url=url)
    if not status.tenants:
        demo.seed_demo()
        note("seeded demo data")
    # The console runs from the repo root; hand it the same database, not one relative to it.
    env = {**os.environ, "REVO_AUTH_MODE": "demo", "REVO_DATABASE_URL": url}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", address, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(math.ceil(get_settings().ingest_max_upload_mb)),
    ]  # fmt: skip
    note(f"Revo Console on http://localhost:{port}")
    os.chdir(ROOT)
    if not get_settings().llm_local:
        os.execvpe(cmd[0], cmd, env)
    raise typer.Exit(_up_with_local_model(cmd, env))


def _up_with_local_model(cmd: list[str], env: dict[str, str]) -> int:
    """Run the console next to llama.cpp's server with the small local model; stop both."""

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt  # so the finally below stops the model server too

    signal.signal(signal.SIGTERM, _stop)
    server = local_server.start(log=ROOT / "var" / "local-llm.log")
    note(f"local model {server.model} on {server.url} (toy-quality drafts)")
    env = {
        **env,
        "REVO_LLM_BASE_URL": server.url,
        "REVO_LLM_MODEL": server.model,
        "REVO_LLM_MODE": server.mode,
    }
    try:
        return subprocess.run(cmd, env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()
