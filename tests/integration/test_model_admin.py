"""The Models page's service against a loopback Ollama (and an OpenAI-only) peer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from domain.enums import Role
from domain.models import AuditEntry
from services import db
from services.errors import InvalidInput, PermissionDenied
from services.llm import model_admin, model_pulls
from services.tenants import TenantWithUsers
from tests.integration.metrics_data import DAY2, seed_metrics
from tests.integration.ollama_peer import OllamaPeer
from tests.scripted_llm import configured

Pair = tuple[TenantWithUsers, TenantWithUsers]
NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[OllamaPeer]:
    server = OllamaPeer()
    with configured(monkeypatch, REVO_LLM_BASE_URL=server.url):
        yield server
    server.close()


def _until(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait for a background thread's effect (bounded; no fixed sleep)."""
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "the background job did not get there"
        threading.Event().wait(0.005)


def _actions() -> list[str]:
    with db.session_factory()() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_ollama_server_lists_size_family_quantisation_and_what_is_loaded(
    peer: OllamaPeer, two_tenants: Pair
) -> None:
    listed = model_admin.server_models(actor=two_tenants[0].actor(Role.ADMIN))
    assert (listed.kind, listed.cannot) == ("ollama", [])
    rows = {m.name: m for m in listed.models}
    assert rows["llama3.2:latest"].model_dump() == {
        "name": "llama3.2:latest",
        "size_bytes": 2_000_000_000,
        "family": "llama",
        "parameter_size": "3.2B",
        "quantization": "Q4_K_M",
        "loaded": True,
    }
    assert rows["qwen2.5:7b"].loaded is False and rows["qwen2.5:7b"].family == "qwen"


def test_an_openai_only_server_shows_names_and_says_what_it_cannot_do(
    peer: OllamaPeer, two_tenants: Pair
) -> None:
    peer.native_api = False
    admin = two_tenants[0].actor(Role.ADMIN)
    listed = model_admin.server_models(actor=admin)
    assert listed.kind == "openai" and [m.name for m in listed.models] == peer.models
    assert all(m.loaded is None and m.family is None for m in listed.models)
    assert "pulling models" in listed.cannot and "which models are loaded" in listed.cannot
    with pytest.raises(InvalidInput, match="cannot delete"):
        model_admin.delete_model(actor=admin, name="qwen2.5:7b")
    with pytest.raises(InvalidInput, match="cannot pull"):
        model_pulls.start_pull(actor=admin, name="phi3", now=NOW)
    tried = model_admin.try_model(
        actor=admin, name="qwen2.5:7b", prompt="hi", clock=iter([1.0, 1.5]).__next__
    )
    assert (tried.latency_ms, tried.completion_tokens, tried.tokens_per_second) == (500, 8, 16.0)
    assert tried.load_ms is None


def test_try_it_reports_latency_tokens_per_second_and_load_time(
    peer: OllamaPeer, two_tenants: Pair
) -> None:
    clock = iter([10.0, 12.25]).__next__  # the clock is passed in: 2.25 s of latency
    tried = model_admin.try_model(
        actor=two_tenants[0].actor(Role.ADMIN), name="llama3.2:latest", prompt="hi", clock=clock
    )
    assert (tried.latency_ms, tried.tokens_per_second, tried.load_ms, tried.text) == (
        2250,
        20.0,
        350,
        "Hi!",
    )


def test_delete_removes_the_model_and_is_audited(peer: OllamaPeer, two_tenants: Pair) -> None:
    model_admin.delete_model(actor=two_tenants[0].actor(Role.ADMIN), name=" qwen2.5:7b ")
    assert peer.models == ["llama3.2:latest"] and _actions()[-1] == "llm.model_deleted"


def test_a_pull_runs_in_the_background_with_progress_and_ends_audited(
    peer: OllamaPeer, two_tenants: Pair
) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    peer.hold_pull = threading.Event()
    job = model_pulls.start_pull(actor=admin, name="phi3:mini", now=NOW)
    assert peer.pull_halfway.wait(5)

    def mine() -> model_pulls.PullJob:  # jobs live in the process, so earlier tests' are listed
        return next(j for j in model_pulls.pull_jobs(actor=admin) if j.id == job.id)

    _until(lambda: mine().fraction == 0.5)
    assert model_pulls.start_pull(actor=admin, name="phi3:mini", now=NOW).id == job.id  # one job
    others = model_pulls.pull_jobs(actor=south.actor(Role.ADMIN))
    assert job.id not in {j.id for j in others}  # another tenant's
    peer.hold_pull.set()
    _until(lambda: mine().done)
    done = mine()
    assert (done.status, done.fraction, done.error) == ("success", 1.0, None)
    assert "phi3:mini" in peer.models and _actions()[-1] == "llm.model_pulled"


@pytest.mark.parametrize("name", ["", "two words", "nul\x00", "x" * 201])
def test_hostile_model_names_and_prompts_are_refused(
    peer: OllamaPeer, two_tenants: Pair, name: str
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    with pytest.raises(InvalidInput, match="model name"):
        model_pulls.start_pull(actor=admin, name=name, now=NOW)
    with pytest.raises(InvalidInput, match="prompt"):
        model_admin.try_model(actor=admin, name="llama3.2", prompt="x" * 4001)
    assert [r for r in peer.requests if r[1] in ("/api/pull", "/api/generate")] == []


def test_only_admins_manage_models(peer: OllamaPeer, two_tenants: Pair) -> None:
    for role in (Role.REVIEWER, Role.FINANCE, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            model_admin.server_models(actor=two_tenants[0].actor(role))


def test_recent_tokens_per_second_per_model_come_from_recorded_calls(two_tenants: Pair) -> None:
    north, south = two_tenants
    seed_metrics(north, south)
    usage = {
        u.model: u
        for u in model_admin.model_usage(
            actor=north.actor(Role.ADMIN), now=DAY2 + timedelta(days=1)
        )
    }
    # llama3.2: c1 c2 c3 c4 c7 c9 -> 161 completion tokens over 13,999 ms
    assert usage["llama3.2"].calls == 6
    assert usage["llama3.2"].tokens_per_second == pytest.approx(161 / 13.999)
    # qwen2.5: c5 c6 -> 300 tokens over 2,000 ms
    assert (usage["qwen2.5"].calls, usage["qwen2.5"].tokens_per_second) == (2, 150.0)
