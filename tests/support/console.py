"""A real console process (`streamlit run app.py`, served by uvicorn through st.App) on loopback."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"  # screenshots the browser journeys keep


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    context = ssl._create_unverified_context()  # the https test serves a self-signed certificate
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the console exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2, context=context):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the console did not become healthy:\n{log.read_text()[-3000:]}")


@contextmanager
def running_console(
    workdir: Path, env: dict[str, str], *, args: list[str] | None = None, scheme: str = "http"
) -> Iterator[str]:
    """Serve app.py with these REVO_* settings; yield its base URL; stop it afterwards."""
    port = free_port()
    log = workdir / f"console-{port}.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", *(args or []),
    ]  # fmt: skip
    full_env = {**os.environ, "REVO_EMBEDDED_WORKER": "false", **env}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
