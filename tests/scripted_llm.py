"""A real HTTP server on loopback that plays an OpenAI-compatible model server from a script.

Each test says what the "model" answers, in order (``Reply``), or per response model name
(``answers``). Replies are wrapped as chat completions: as a tool call when the request asked
for tools, as message content otherwise. It also serves Ollama's native /api/tags, /api/show
and /api/pull for model management tests.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.config import get_settings


@dataclass
class Reply:
    text: str | None = None
    status: int = 200
    delay: float = 0.0
    body: str | None = None
    usage: tuple[int, int] = (12, 7)


Answer = str | Callable[[dict[str, Any]], str]


def schema_name(request: dict[str, Any]) -> str:
    """The response model's name a request asks for (tools or response_format)."""
    tools = request.get("tools") or []
    if tools:
        return str(tools[0]["function"]["name"])
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"])
    system = str(request["messages"][0].get("content", ""))
    marker = '"title": "'
    return system.rsplit(marker, 1)[1].split('"', 1)[0] if marker in system else ""


def completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if request.get("tools"):
        name = request["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": reply.text},
                }
            ],
        }
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
            "total_tokens": sum(reply.usage),
        },
    }


@dataclass
class ScriptedLLM:
    script: list[Reply] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    models: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    native_api: bool = True  # False: only the OpenAI-compatible /v1, as llama.cpp's server
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.script:
                return self.script.pop(0)
        answer = self.answers.get(schema_name(request))
        if answer is None:
            return Reply(status=500, body='{"error": "the script has no answer for this"}')
        return Reply(text=answer(request) if callable(answer) else answer)


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def _json(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            return dict(json.loads(raw or b"{}"))

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                listed = [{"id": m, "object": "model", "owned_by": "me"} for m in llm.models]
                self._send(200, json.dumps({"object": "list", "data": listed}))
            elif not llm.native_api:
                self._send(404, '{"error": "not found"}')
            elif self.path == "/api/tags":
                tags = [{"name": m, "model": m, "size": 1000, "digest": "abc"} for m in llm.models]
                self._send(200, json.dumps({"models": tags}))
            elif self.path == "/api/version":
                self._send(200, '{"version": "0.0.0-scripted"}')
            else:
                self._send(404, '{"error": "not found"}')

        def do_POST(self) -> None:
            request = self._json()
            if self.path == "/api/show":
                if request.get("model") not in llm.models:
                    self._send(
                        404, json.dumps({"error": f"model '{request.get('model')}' not found"})
                    )
                    return
                details = {"family": "llama", "parameter_size": "3.2B"}
                self._send(200, json.dumps({"modelfile": "", "details": details, "model_info": {}}))
                return
            if self.path == "/api/pull":
                lines = [{"status": "pulling manifest"}]
                lines += [
                    {"status": "downloading", "digest": "sha256:1", "total": 100, "completed": n}
                    for n in (0, 50, 100)
                ]
                lines.append({"status": "success"})
                llm.models.append(str(request.get("model")))
                body = "".join(json.dumps(line) + "\n" for line in lines)
                self._send(200, body, "application/x-ndjson")
                return
            reply = llm.next_reply(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.body is not None or reply.status != 200:
                self._send(reply.status, reply.body or '{"error": "scripted failure"}')
                return
            self._send(200, json.dumps(completion(request, reply)))

    return Handler


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def scripted(*replies: Reply, **answers: Answer) -> Iterator[ScriptedLLM]:
    llm = ScriptedLLM(script=list(replies), answers=dict(answers))
    try:
        yield llm
    finally:
        llm.close()


@contextmanager
def configured(monkeypatch: Any, llm: ScriptedLLM | None = None, **env: str) -> Iterator[None]:
    """Point the settings at a scripted server (or a refused port) with fast test timings."""
    values = {
        "REVO_LLM_BASE_URL": llm.url if llm else refused_url(),
        "REVO_LLM_TIMEOUT_S": "3",
        "REVO_LLM_TRANSPORT_ATTEMPTS": "1",
        "REVO_LLM_MAX_REASKS": "0",
        "REVO_LLM_BREAKER_FAILURES": "100",
        "REVO_WORKER_RETRY_BASE_S": "0",
        "REVO_WORKER_LEASE_S": "30",
        **env,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        yield
    finally:
        get_settings.cache_clear()
