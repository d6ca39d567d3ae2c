"""Without a reachable model the console still works and says which URL it tried."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services.tenants import TenantWithUsers
from tests.scripted_llm import ScriptedLLM, Trickle, configured

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _home(app: AppTest, user_id: int) -> AppTest:
    app.run()
    app.selectbox[0].set_value(user_id)
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_home_works_and_names_the_unreachable_model_url(
    app: AppTest, two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    with configured(monkeypatch, None, REVO_AUTH_MODE="demo"):
        url = os.environ["REVO_LLM_BASE_URL"]
        _home(app, two_tenants[0].users[Role.SDR].id)
        assert app.metric, "the home page's counts are still shown"
        [warning] = app.warning
        text = warning.value.replace("\\", "").replace("\u2060", "")
        assert url in text and "cannot be reached" in text and "wait and retry" in text


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_home_shows_no_model_warning_when_the_model_is_installed(
    app: AppTest, two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ScriptedLLM(models=["llama3.2:latest"])
    try:
        with configured(monkeypatch, server, REVO_AUTH_MODE="demo"):
            _home(app, two_tenants[0].users[Role.SDR].id)
            assert not app.warning
    finally:
        server.close()


@pytest.mark.parametrize(
    "trickle", [Trickle(every_s=1.0), Trickle(every_s=1.0, endless=True)], ids=["slow", "endless"]
)
@pytest.mark.usefixtures("demo_auth", "loopback")
def test_home_renders_within_two_seconds_while_the_model_status_trickles(
    app: AppTest, two_tenants: Pair, monkeypatch: pytest.MonkeyPatch, trickle: Trickle
) -> None:
    server = ScriptedLLM(models=["llama3.2:latest"], tags_trickle=trickle)
    try:
        with configured(monkeypatch, server, REVO_AUTH_MODE="demo"):
            app.run()
            app.selectbox[0].set_value(two_tenants[0].users[Role.SDR].id)
            started = time.monotonic()
            app.button[0].click().run(timeout=10)
            elapsed = time.monotonic() - started
            assert not app.exception, app.exception
            assert app.metric, "the home page's counts are shown"
            assert elapsed < 2.5, f"the home page took {elapsed:.1f} s"
            [warning] = app.warning
            assert "did not answer within 1 s" in warning.value.replace("\\", "")
    finally:
        server.close()
