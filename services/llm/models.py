"""Model management on Ollama's native API: what is installed, details, pull with progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

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
    url = get_settings().llm_base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


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


def _openai_model_ids(url: str) -> list[str]:
    """The models an OpenAI-compatible server (llama.cpp's, say) lists at /v1/models."""
    try:
        answer = httpx.get(f"{url.rstrip('/')}/models", timeout=5)
        answer.raise_for_status()
        return [str(m["id"]) for m in answer.json()["data"]]
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"The model server at {url} cannot be reached: {exc}.") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise LLMError(f"The model server at {url} lists its models in an unknown form.") from exc


def _installed(url: str) -> tuple[list[str], str]:
    """The installed model names and the kind of server that listed them."""
    try:
        return [m.model or "" for m in _call(lambda: _client(5).list()).models], "Ollama"
    except NotFound:  # no native API here: a plain OpenAI-compatible server
        return _openai_model_ids(url), "the model server"


@lru_cache(maxsize=16)
def _probe(url: str, model: str, _bucket: int) -> ModelStatus:
    status = ModelStatus(url=url, model=model, reachable=False, present=False)
    try:
        names, server = _installed(url)
    except ServiceError as exc:
        return status.model_copy(update={"problem": exc.message})
    present = any(_same_model(n, model) for n in names)
    problem = None if present else f"The model {model} is not installed on {server}."
    return status.model_copy(update={"reachable": True, "present": present, "problem": problem})


def model_status(*, actor: Actor) -> ModelStatus:
    """Whether the model server answers and has the configured model (cached for 15 s)."""
    require(actor, Action.VIEW_HOME)
    settings = get_settings()
    bucket = int(time.monotonic() // STATUS_TTL_S)
    return _probe(settings.llm_base_url, settings.llm_model, bucket)
