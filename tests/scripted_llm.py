"""A real HTTP server on loopback that plays an OpenAI-compatible model server from a script.

Each test says what the "model" answers, in order (``Reply``), or per response model name
(``answers``). Replies are wrapped as chat completions: as a tool call when the request asked
for tools, as message content otherwise. It also serves Ollama's native /api/tags, /api/show
and /api/pull for model management tests, and /api/ps (``loaded``) and /api/generate (loads as
Ollama does, ``load_ns`` as its load_duration if set) for the client's pre-load step.

A reply (or /api/tags, with ``tags_trickle``) can be trickled: sent a byte at a time, headers
included if asked, or endlessly. ``hangups`` counts trickles the client cut off.
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
from services.llm import preload


@dataclass(frozen=True)
class Trickle:
    """Send a byte every ``every_s`` seconds; ``endless``: then keep sending spaces forever."""

    every_s: float = 1.0
    endless: bool = False
    headers: bool = False  # trickle the status line and headers too


@dataclass
class Reply:
    text: str | None = None
    status: int = 200
    delay: float = 0.0
    body: str | None = None
    usage: Any = (12, 7)  # (prompt, completion), or any JSON value sent as the usage block
    headers: dict[str, str] = field(default_factory=dict)
    trickle: Trickle | None = None


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
        "usage": _usage(reply.usage),
    }


def _usage(usage: Any) -> Any:
    if isinstance(usage, tuple):
        return {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        }
    return usage


@dataclass
class ScriptedLLM:
    script: list[Reply] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    models: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    native_api: bool = True  # False: only the OpenAI-compatible /v1, as llama.cpp's server
    tags_trickle: Trickle | None = None
    loaded: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    load_ns: Any = None  # sent as /api/generate's load_duration unless None (Ollama sends none)
    native_replies: dict[str, Reply] = field(default_factory=dict)  # /api/ps, /api/generate
    requests: list[dict[str, Any]] = field(default_factory=list)
    native_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hangups: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: threading.Event = field(default_factory=threading.Event)

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
        self._closed.set()
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

        def _send(
            self,
            status: int,
            body: str,
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
            trickle: Trickle | None = None,
        ) -> None:
            data = body.encode()
            if trickle is not None:
                self._trickle(status, data, ctype, headers or {}, trickle)
                return
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def _trickle(
            self, status: int, data: bytes, ctype: str, headers: dict[str, str], t: Trickle
        ) -> None:
            length = 10**12 if t.endless else len(data)
            head = f"HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            self.close_connection = True
            try:
                if not t.headers:
                    self.wfile.write(head.encode())
                    head = ""
                stream = head.encode() + data
                sent = 0
                while not llm._closed.is_set() and (t.endless or sent < len(stream)):
                    self.wfile.write(stream[sent : sent + 1] if sent < len(stream) else b" ")
                    sent += 1
                    time.sleep(t.every_s)
            except (BrokenPipeError, ConnectionResetError):
                with llm._lock:
                    llm.hangups += 1

        def _json(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            return dict(json.loads(raw or b"{}"))

        def do_GET(self) -> None:
            if self.path.startswith("/api/"):
                llm.native_requests.append((self.path, {}))
            if self.path == "/v1/models":
                listed = [{"id": m, "object": "model", "owned_by": "me"} for m in llm.models]
                self._send(200, json.dumps({"object": "list", "data": listed}))
            elif not llm.native_api:
                self._send(404, '{"error": "not found"}')
            elif self.path == "/api/tags":
                tags = [{"name": m, "model": m, "size": 1000, "digest": "abc"} for m in llm.models]
                self._send(200, json.dumps({"models": tags}), trickle=llm.tags_trickle)
            elif self.path == "/api/version":
                self._send(200, '{"version": "0.0.0-scripted"}')
            elif self.path in llm.native_replies:  # a scripted failure or odd answer
                self._reply(llm.native_replies[self.path])
            elif self.path == "/api/ps":
                running = [{"name": m, "model": m} for m in llm.loaded]
                self._send(200, json.dumps({"models": running}))
            else:
                self._send(404, '{"error": "not found"}')

        def _reply(self, reply: Reply, request: dict[str, Any] | None = None) -> None:
            """A failure or a scripted body as it is; else a chat completion of its text."""
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.body if reply.body is not None else '{"error": "scripted failure"}'
            if reply.body is None and reply.status == 200 and request is not None:
                body = json.dumps(completion(request, reply))
            self._send(reply.status, body, headers=reply.headers, trickle=reply.trickle)

        def _load(self, request: dict[str, Any]) -> None:
            llm.native_requests.append((self.path, request))
            if self.path in llm.native_replies:
                return self._reply(llm.native_replies[self.path])
            llm.loaded.append(str(request.get("model")))
            answer = {"model": request.get("model"), "done": True, "done_reason": "load"}
            self._send(200, json.dumps({**answer, "load_duration": llm.load_ns} if llm.load_ns
                                       is not None else answer))  # fmt: skip

        def do_POST(self) -> None:
            request = self._json()
            if self.path == "/api/generate" and llm.native_api:
                return self._load(request)
            if self.path == "/api/show":
                if request.get("model") not in llm.models:
                    missing = {"error": f"model '{request.get('model')}' not found"}
                    return self._send(404, json.dumps(missing))
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
                return self._send(200, body, "application/x-ndjson")
            self._reply(llm.next_reply(request), request)

    return Handler


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


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
    preload.forget()  # a new fake server may reuse an earlier one's port
    try:
        yield
    finally:
        get_settings.cache_clear()
