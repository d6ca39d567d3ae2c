"""Before a call to Ollama, load the model if it is not loaded, and measure how long that took.

Agents talk to the OpenAI-compatible ``/v1`` endpoint, which reports no load time. When the
server is Ollama (it answers ``/api/version`` with a version), the client first looks at
``/api/ps`` (the answer is kept ``PS_TTL_S`` per process and server, so a busy worker does not
ask before every call). A model that is not listed is loaded with an empty ``/api/generate``;
its load time goes on the call's row. Ollama's load answer (``done_reason: "load"``) carries no
``load_duration`` today, so the time is the load request's wall clock; a server that does send a
``load_duration`` is believed only when it is a sane number (else nothing is recorded).

``None`` means nothing was measured: the model was already loaded, the server is not Ollama, or
the step failed. The step is best effort: every failure is logged and the call goes on; it
never waits longer than its bounds, nor past the call's deadline.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from services.llm import wire

log = logging.getLogger(__name__)

PS_TTL_S = 10.0  # how long an /api/ps answer (and a failed look) is trusted
KIND_TTL_S = 60.0  # how long "this server is (not) Ollama" is trusted
ASK_BOUND_S = 2.0  # /api/version and /api/ps: small answers, or nothing
MAX_LOAD_MS = 24 * 3600 * 1000  # a "load time" beyond a day is not one


def native_url(base_url: str) -> str:
    """Ollama's native API address: the /v1 URL without its /v1."""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _same(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        return name if ":" in name else f"{name}:latest"

    return norm(a) == norm(b)


def _load_ms(answer: Any, wall_ms: int) -> int | None:
    """The load time an /api/generate answer stands for, or None if it is not a sane load."""
    if not isinstance(answer, dict) or answer.get("done") is not True:
        return None
    if answer.get("done_reason") not in (None, "load"):
        return None
    if "load_duration" not in answer:  # Ollama's answer to a bare load: time it ourselves
        return wall_ms if 0 <= wall_ms <= MAX_LOAD_MS else None
    ns = answer["load_duration"]
    if isinstance(ns, bool) or not isinstance(ns, int | float) or ns != ns:
        return None
    ms = ns / 1e6
    return int(ms) if 0 <= ms <= MAX_LOAD_MS else None


class Preloader:
    """One server's cached answers (kind, loaded models) and the pre-load step."""

    def __init__(self, base_url: str) -> None:
        self.url = native_url(base_url)
        self._clock = time.monotonic  # the clock of the call's deadline
        self._lock = threading.Lock()
        self._kind: tuple[bool, float] | None = None  # (is Ollama, trusted until)
        self._loaded: tuple[list[str] | None, float] | None = None  # (names, trusted until)
        self._model_locks: dict[str, threading.Lock] = {}

    def load_ms(
        self, model: str, *, keep_alive: str, deadline: float, bound_s: float
    ) -> int | None:
        """Load ``model`` if Ollama has not; its load time in ms, or None. Never raises."""
        try:
            if not self._is_ollama(deadline):
                return None
            lock = self._model_lock(model)  # one load per model at a time; the rest then see it
            if not lock.acquire(timeout=max(min(bound_s, deadline - self._clock()), 0.0)):
                return None
            try:
                loaded = self._loaded_models(deadline)
                if loaded is None or any(_same(model, name) for name in loaded):
                    return None
                return self._preload(model, keep_alive, min(bound_s, deadline - self._clock()))
            finally:
                lock.release()
        except Exception:
            log.warning(
                "pre-loading %s at %s failed; calling anyway", model, self.url, exc_info=True
            )
            return None

    def _ask(self, path: str, deadline: float) -> tuple[int, Any]:
        bound = max(min(ASK_BOUND_S, deadline - self._clock()), 0.0)
        answer = wire.request("GET", f"{self.url}{path}", bound_s=bound, idle_s=bound)
        try:
            return answer.status, json.loads(answer.text)
        except (ValueError, RecursionError):
            return answer.status, None

    def _is_ollama(self, deadline: float) -> bool:
        now = self._clock()
        with self._lock:
            if self._kind is not None and now < self._kind[1]:
                return self._kind[0]
            self._kind = (False, now + PS_TTL_S)  # a failed look is retried after PS_TTL_S
        status, body = self._ask("/api/version", deadline)
        is_ollama = (
            status == 200 and isinstance(body, dict) and isinstance(body.get("version"), str)
        )
        if status < 500:  # a definite answer (404 from an OpenAI-only server included)
            with self._lock:
                self._kind = (is_ollama, self._clock() + KIND_TTL_S)
        return is_ollama

    def _loaded_models(self, deadline: float) -> list[str] | None:
        now = self._clock()
        with self._lock:
            if self._loaded is not None and now < self._loaded[1]:
                return self._loaded[0]
            self._loaded = (None, now + PS_TTL_S)  # until it answers: no pre-load
        status, body = self._ask("/api/ps", deadline)
        listed = body.get("models") if status == 200 and isinstance(body, dict) else None
        if not isinstance(listed, list):
            log.warning("%s/api/ps answered HTTP %s in an unknown form", self.url, status)
            return None
        names = [
            str(m.get("model") or m.get("name"))
            for m in listed
            if isinstance(m, dict) and isinstance(m.get("model") or m.get("name"), str)
        ]
        with self._lock:
            self._loaded = (names, self._clock() + PS_TTL_S)
        return names

    def _preload(self, model: str, keep_alive: str, bound_s: float) -> int | None:
        if bound_s <= 0:
            return None
        body = {"model": model, "prompt": "", "keep_alive": keep_alive, "stream": False}
        started = self._clock()
        answer = wire.request(
            "POST", f"{self.url}/api/generate", json=body, bound_s=bound_s, idle_s=bound_s
        )
        wall_ms = int((self._clock() - started) * 1000)
        if answer.status != 200:
            log.warning("loading %s at %s: HTTP %s", model, self.url, answer.status)
            return None
        with self._lock:  # it is loaded now, whatever the answer says about how long it took
            names, until = self._loaded or ([], 0.0)
            self._loaded = ([*(names or []), model], until)
        try:
            parsed = json.loads(answer.text)
        except (ValueError, RecursionError):
            parsed = None
        ms = _load_ms(parsed, wall_ms)
        if ms is None:
            log.warning("loading %s at %s: an answer that is not a sane load", model, self.url)
        return ms

    def _model_lock(self, model: str) -> threading.Lock:
        with self._lock:
            return self._model_locks.setdefault(model, threading.Lock())


_PRELOADERS: dict[str, Preloader] = {}
_PRELOADERS_LOCK = threading.Lock()


def for_url(base_url: str) -> Preloader:
    """The process-wide pre-loader of one model server (shared by every client of that URL)."""
    with _PRELOADERS_LOCK:
        found = _PRELOADERS.get(base_url)
        if found is None:
            found = _PRELOADERS[base_url] = Preloader(base_url)
        return found


def forget() -> None:
    """Drop every server's cached answers (a test's new fake server may reuse a port)."""
    with _PRELOADERS_LOCK:
        _PRELOADERS.clear()
