"""Model management against a scripted Ollama on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from domain.enums import Role
from domain.models import AuditEntry
from services import db
from services.config import get_settings
from services.errors import LLMUnavailable, NotFound, PermissionDenied
from services.llm import models
from services.tenants import TenantWithUsers
from tests.scripted_llm import ScriptedLLM, refused_url


@pytest.fixture
def ollama_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM(models=["llama3.2:latest", "qwen2.5:0.5b"])
    monkeypatch.setenv("REVO_LLM_BASE_URL", server.url)
    get_settings.cache_clear()
    yield server
    server.close()
    get_settings.cache_clear()


def test_admin_lists_and_inspects_installed_models(
    ollama_at: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    names = [m.name for m in models.list_models(actor=admin)]
    assert names == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert models.show_model(actor=admin, name="llama3.2:latest").family == "llama"
    with pytest.raises(NotFound, match="does not have that model"):
        models.show_model(actor=admin, name="nope")


def test_configured_model_presence_is_reported(
    ollama_at: ScriptedLLM,
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer = two_tenants[0].actor(Role.VIEWER)
    status = models.model_status(actor=viewer)
    assert (status.reachable, status.present, status.problem) == (True, True, None)
    monkeypatch.setenv("REVO_LLM_MODEL", "mistral")
    get_settings.cache_clear()
    missing = models.model_status(actor=viewer)
    assert missing.reachable and not missing.present and missing.model == "mistral"
    assert missing.problem and "mistral is not installed" in missing.problem


def test_a_server_with_only_the_openai_api_is_asked_at_v1_models(
    monkeypatch: pytest.MonkeyPatch, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    server = ScriptedLLM(models=["smollm2-135m"], native_api=False)  # as llama.cpp's server
    monkeypatch.setenv("REVO_LLM_BASE_URL", server.url)
    monkeypatch.setenv("REVO_LLM_MODEL", "smollm2-135m")
    get_settings.cache_clear()
    try:
        viewer = two_tenants[0].actor(Role.VIEWER)
        status = models.model_status(actor=viewer)
        assert (status.reachable, status.present, status.problem) == (True, True, None)
        monkeypatch.setenv("REVO_LLM_MODEL", "llama3.2")
        get_settings.cache_clear()
        missing = models.model_status(actor=viewer)
        assert missing.reachable and not missing.present
        assert missing.problem == "The model llama3.2 is not installed on the model server."
    finally:
        server.close()
        get_settings.cache_clear()


def test_pull_yields_progress_and_is_audited(
    ollama_at: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    steps = list(models.pull_model(actor=admin, name="phi3"))
    assert [s.fraction for s in steps if s.total] == [0.0, 0.5, 1.0]
    assert steps[-1].status == "success"
    assert "phi3" in [m.name for m in models.list_models(actor=admin)]
    with db.session_factory()() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "llm.model_pulled"))
        assert [e.after for e in entry] == [{"model": "phi3", "server": ollama_at.url[:-3]}]


def test_only_admins_manage_models(
    ollama_at: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    with pytest.raises(PermissionDenied):
        models.list_models(actor=two_tenants[0].actor(Role.SDR))


def test_unreachable_ollama_is_reported_with_its_url(
    monkeypatch: pytest.MonkeyPatch, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    url = refused_url()
    monkeypatch.setenv("REVO_LLM_BASE_URL", url)
    get_settings.cache_clear()
    try:
        admin = two_tenants[0].actor(Role.ADMIN)
        status = models.model_status(actor=admin)
        assert not status.reachable and status.problem and url[:-3] in status.problem
        with pytest.raises(LLMUnavailable, match=url[:-3]):
            models.list_models(actor=admin)
    finally:
        get_settings.cache_clear()
