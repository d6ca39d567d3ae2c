"""Model management on Ollama's native API: what is installed, details, pull with progress."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import ollama
from pydantic import BaseModel, ValidationError

from services import audit
from services.actor import Actor
from services.config import get_settings
from services.errors import (
    InvalidInput,
    LLMError,
    LLMTimeout,
    LLMUnavailable,
    NotFound,
    ServiceError,
)
from services.llm import preload, wire
from services.permissions import Action, require
from services.uow import UnitOfWork

T = TypeVar("T")


class ModelInfo(BaseModel):
    name: str
    size_bytes: int | None = None
    digest: str | None = None


class ModelDetails(BaseModel):
    name: str
    family: str | None = None
    parameter_size: str | None = None
    quantization_level: str | None = None


class PullProgress(BaseModel):
    status: str
    completed: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total or self.completed is None:
            return None
        return min(self.completed / self.total, 1.0)


class ModelStatus(BaseModel):
    url: str
    model: str
    reachable: bool
    present: bool
    problem: str | None = None


def native_url() -> str:
    """Ollama's native API address: the configured /v1 URL without its /v1."""
    return preload.native_url(get_settings().llm_base_url)


def _client(timeout: float | None = None) -> ollama.Client:
    return ollama.Client(host=native_url(), timeout=timeout or get_settings().llm_timeout_s)


@contextmanager
def _translated() -> Iterator[None]:
    url = native_url()
    try:
        yield
    except ConnectionError as exc:
        raise LLMUnavailable(f"Ollama at {url} cannot be reached. Is it running?") from exc
    except httpx.TimeoutException as exc:
        raise LLMTimeout(f"Ollama at {url} did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise LLMUnavailable(f"Ollama at {url} cannot be reached: {exc}.") from exc
    except ollama.ResponseError as exc:
        if exc.status_code == 404:
            raise NotFound(f"Ollama at {url} does not have that model: {exc.error}") from exc
        raise LLMError(f"Ollama at {url} answered with an error: {exc.error}") from exc
    except ValidationError as exc:
        raise LLMError(f"Ollama at {url} answered in a form this console does not know.") from exc


def _call(fn: Callable[[], T]) -> T:
    with _translated():
        return fn()


def _same_model(a: str, b: str) -> bool:
    def norm(name: str) -> str:
        return name if ":" in name else f"{name}:latest"

    return norm(a) == norm(b)


def list_models(*, actor: Actor) -> list[ModelInfo]:
    """The models installed on the Ollama server."""
    require(actor, Action.MANAGE_MODELS)
    listing = _call(lambda: _client(10).list())
    return [
        ModelInfo(name=m.model or "", size_bytes=m.size, digest=m.digest) for m in listing.models
    ]


def show_model(*, actor: Actor, name: str) -> ModelDetails:
    """Details of one installed model."""
    require(actor, Action.MANAGE_MODELS)
    shown = _call(lambda: _client(10).show(name))
    d = shown.details
    return ModelDetails(
        name=name,
        family=d.family if d else None,
        parameter_size=d.parameter_size if d else None,
        quantization_level=d.quantization_level if d else None,
    )


def pull_model(*, actor: Actor, name: str) -> Iterator[PullProgress]:
    """Pull a model, yielding progress as it downloads; audited when it completes."""
    require(actor, Action.MANAGE_MODELS)
    if not name.strip():
        raise InvalidInput("Give the name of the model to pull, e.g. llama3.2.")
    with _translated():
        for part in _client().pull(name.strip(), stream=True):
            yield PullProgress(status=part.status or "", completed=part.completed, total=part.total)
    with UnitOfWork(actor) as uow:
        audit.record(
            uow,
            action="llm.model_pulled",
            entity_type="llm_model",
            entity_id=None,
            after={"model": name.strip(), "server": native_url()},
        )
        uow.commit()


STATUS_TTL_S = 15
# The home page waits this long for a fresh status; a slower probe finishes in the background.
STATUS_WAIT_S = 1.0
# A probe never outlives this, even against a server that trickles its answer forever.
PROBE_BOUND_S = 5.0


def _get_json(url: str) -> Any:
    answer = wire.request("GET", url, bound_s=PROBE_BOUND_S, idle_s=PROBE_BOUND_S)
    if answer.status == 404:
        raise NotFound(f"{url} does not exist")
    if answer.status >= 400:
        raise LLMError(f"The model server at {url} answered HTTP {answer.status}.")
    return json.loads(answer.text)


def _listed(url: str, path: str, key: str, field: str) -> list[str]:
    """The model names a server lists at ``path`` (under ``key``, each in ``field``)."""
    try:
        entries = _get_json(f"{url}{path}")[key]
        return [str(m.get(field) or m.get("name") or "") for m in entries]
    except NotFound:
        raise
    except httpx.TimeoutException as exc:
        raise LLMTimeout(f"The model server at {url} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"The model server at {url} cannot be reached: {exc}.") from exc
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise LLMError(f"The model server at {url} lists its models in an unknown form.") from exc


def _installed(url: str) -> tuple[list[str], str]:
    """The installed model names and the kind of server that listed them."""
    try:
        return _listed(native_url(), "/api/tags", "models", "model"), "Ollama"
    except NotFound:  # no native API here: a plain OpenAI-compatible server
        pass
    try:
        return _listed(url.rstrip("/"), "/models", "data", "id"), "the model server"
    except NotFound as exc:
        raise LLMError(f"The model server at {url} does not list its models.") from exc


def _probe(url: str, model: str) -> ModelStatus:
    status = ModelStatus(url=url, model=model, reachable=False, present=False)
    try:
        names, server = _installed(url)
    except ServiceError as exc:
        return status.model_copy(update={"problem": exc.message})
    except Exception as exc:  # a status line must never fail the page that shows it
        return status.model_copy(update={"problem": f"The status check failed: {exc}"})
    present = any(_same_model(n, model) for n in names)
    problem = None if present else f"The model {model} is not installed on {server}."
    return status.model_copy(update={"reachable": True, "present": present, "problem": problem})


@dataclass
class _Check:
    """One status check of one (url, model), running in the background until it is done."""

    url: str
    model: str
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    status: ModelStatus | None = None

    def start(self) -> _Check:
        threading.Thread(target=self._run, daemon=True, name="revo-model-status").start()
        return self

    def _run(self) -> None:
        try:
            self.status = _probe(self.url, self.model)
        finally:
            self.done.set()


_CHECKS: dict[tuple[str, str], _Check] = {}
_KNOWN: dict[tuple[str, str], ModelStatus] = {}
_CHECKS_LOCK = threading.Lock()


def _current_check(url: str, model: str) -> _Check:
    key = (url, model)
    with _CHECKS_LOCK:
        check = _CHECKS.get(key)
        if check is None or (
            check.done.is_set() and time.monotonic() - check.started >= STATUS_TTL_S
        ):
            check = _CHECKS[key] = _Check(url, model).start()
        return check


def model_status(*, actor: Actor) -> ModelStatus:
    """Whether the model server answers and has the configured model (cached for 15 s).

    Waits at most ``STATUS_WAIT_S`` for a check; a slower one goes on in the background and
    the last known status (or "not known yet") is returned meanwhile.
    """
    require(actor, Action.VIEW_HOME)
    settings = get_settings()
    url, model = settings.llm_base_url, settings.llm_model
    check = _current_check(url, model)
    if check.done.wait(STATUS_WAIT_S) and check.status is not None:
        _KNOWN[(url, model)] = check.status
        return check.status
    known = _KNOWN.get((url, model))
    if known is not None:
        return known
    problem = (
        f"The model server did not answer within {STATUS_WAIT_S:g} s; "
        "its status is being checked in the background."
    )
    return ModelStatus(url=url, model=model, reachable=False, present=False, problem=problem)
