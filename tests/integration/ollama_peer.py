"""A loopback HTTP peer speaking Ollama's native API (or only the OpenAI one, as llama.cpp's
server does) for the Models page: tags with details, ps, delete, generate, a holdable pull."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class OllamaPeer:
    models: list[str] = field(default_factory=lambda: ["llama3.2:latest", "qwen2.5:7b"])
    loaded: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    native_api: bool = True
    hold_pull: threading.Event | None = None  # the pull stops half-way until this is set
    pull_halfway: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        if self.hold_pull is not None:
            self.hold_pull.set()
        self._server.shutdown()
        self._server.server_close()


def _handler(peer: OllamaPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # bodies end when the connection closes

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            return dict(json.loads(self.rfile.read(n) or b"{}")) if n else {}

        def _route(self, method: str) -> None:
            body = self._body()
            peer.requests.append((method, self.path, body))
            if self.path == "/v1/models":
                return self._send(200, {"data": [{"id": m} for m in peer.models]})
            if self.path == "/v1/chat/completions":
                reply = {
                    "choices": [{"message": {"content": "Hello there, five words here."}}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 8},
                }
                return self._send(200, reply)
            if not peer.native_api:
                return self._send(404, {"error": "not found"})
            if self.path == "/api/version":
                return self._send(200, {"version": "0.0.0-peer"})
            if self.path == "/api/tags":
                tags = [
                    {
                        "name": m,
                        "model": m,
                        "size": 2_000_000_000 + i,
                        "digest": f"d{i}",
                        "details": {
                            "family": m.split(":")[0].rstrip("0123456789."),
                            "parameter_size": "3.2B",
                            "quantization_level": "Q4_K_M",
                        },
                    }
                    for i, m in enumerate(peer.models)
                ]
                return self._send(200, {"models": tags})
            if self.path == "/api/ps":
                return self._send(200, {"models": [{"name": m, "model": m} for m in peer.loaded]})
            if self.path == "/api/delete":
                if body.get("model") not in peer.models:
                    return self._send(404, {"error": f"model '{body.get('model')}' not found"})
                peer.models.remove(str(body["model"]))
                return self._send(200, "")
            if self.path == "/api/generate":
                return self._send(
                    200,
                    {
                        "model": body.get("model"),
                        "response": "Hi!",
                        "done": True,
                        "eval_count": 40,
                        "eval_duration": 2_000_000_000,
                        "load_duration": 350_000_000,
                    },
                )
            if self.path == "/api/pull":
                return self._pull(str(body.get("model")))
            return self._send(404, {"error": "not found"})

        def _pull(self, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()

            def line(data: dict[str, Any]) -> None:
                self.wfile.write((json.dumps(data) + "\n").encode())
                self.wfile.flush()

            line({"status": "pulling manifest"})
            line({"status": "downloading", "digest": "sha256:1", "total": 100, "completed": 50})
            peer.pull_halfway.set()
            if peer.hold_pull is not None:
                peer.hold_pull.wait(10)
            line({"status": "downloading", "digest": "sha256:1", "total": 100, "completed": 100})
            peer.models.append(model)
            line({"status": "success"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_DELETE(self) -> None:
            self._route("DELETE")

    return Handler
