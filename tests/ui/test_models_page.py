"""The Models page over a loopback Ollama peer: who reaches it, the table, try it, delete."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services.tenants import TenantWithUsers
from tests.integration.ollama_peer import OllamaPeer
from tests.scripted_llm import configured
from tests.support import apptest as ui
from tests.support.model_loads import seed_loads

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/models.py"


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[OllamaPeer]:
    server = OllamaPeer()
    with configured(monkeypatch, REVO_LLM_BASE_URL=server.url, REVO_AUTH_MODE="demo"):
        yield server
    server.close()


@pytest.mark.usefixtures("loopback")
def test_an_admin_sees_the_models_tries_one_and_deletes_another(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer
) -> None:
    ui.open_page(app, two_tenants[0].users[Role.ADMIN].id, PAGE)
    table = app.dataframe[0].value
    assert list(table["Model"]) == ["llama3.2:latest", "qwen2.5:7b"]
    assert list(table["Loaded"]) == ["yes", "no"] and set(table["Quantisation"]) == {"Q4_K_M"}
    app.button(key="FormSubmitter:try_model-Send").click().run()
    assert not app.exception, app.exception
    shown = " ".join(m.value for m in app.markdown)
    assert "tokens/s" in shown and "load 350 ms" in shown and "20.0 tokens/s" in shown

    delete_box = next(s for s in app.selectbox if s.label == "Delete a model")
    delete_box.set_value("qwen2.5:7b")
    app.button(key="FormSubmitter:delete_model-Delete").click().run()
    assert "Tick the box" in app.error[0].value and "qwen2.5:7b" in peer.models
    next(c for c in app.checkbox if c.label.startswith("Yes, delete")).check()
    app.button(key="FormSubmitter:delete_model-Delete").click().run()
    assert not app.exception, app.exception
    assert peer.models == ["llama3.2:latest"]
    assert list(app.dataframe[0].value["Model"]) == ["llama3.2:latest"]


@pytest.mark.usefixtures("loopback")
def test_a_pull_goes_on_while_the_admin_is_on_another_page_and_shows_its_progress_on_return(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer
) -> None:
    peer.hold_pull = threading.Event()
    ui.open_page(app, two_tenants[0].users[Role.ADMIN].id, PAGE)
    next(t for t in app.text_input if t.label == "Pull a model").input("phi3:mini")
    app.button(key="FormSubmitter:pull_model-Pull").click().run()
    assert peer.pull_halfway.wait(5)
    app.switch_page("pages/home.py").run()  # leave the page while the pull is under way
    assert not app.exception, app.exception
    app.switch_page(PAGE).run()
    shown = [
        (p.proto.value, p.proto.text.replace("\u2060", "").replace("\\", ""))
        for p in app.get("progress")
    ]
    assert (50, "phi3:mini: downloading") in shown, shown  # the running pull, half-way
    peer.hold_pull.set()


@pytest.mark.usefixtures("loopback")
def test_an_openai_only_server_says_what_it_cannot_do_and_offers_no_pull(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer
) -> None:
    peer.native_api = False
    ui.open_page(app, two_tenants[0].users[Role.ADMIN].id, PAGE)
    notice = app.info[0].value
    assert "only the OpenAI API" in notice and "pulling models" in notice
    assert not any(b.label in ("Pull", "Delete") for b in app.button)


@pytest.mark.usefixtures("loopback")
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.FINANCE, Role.VIEWER])
def test_no_one_but_an_admin_reaches_the_models_page(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer, role: Role
) -> None:
    app.run()
    app.selectbox[0].set_value(two_tenants[0].users[role].id)
    app.button[0].click().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)


def _recent(app: AppTest) -> dict[str, str]:
    table = app.dataframe[1].value  # the second table: recent calls per model
    return dict(zip(table["Model"], table["Load time"], strict=True))


@pytest.mark.usefixtures("loopback")
def test_recent_calls_show_each_models_median_and_last_load_or_none_recorded(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer
) -> None:
    seed_loads(*two_tenants, now=datetime.now(UTC))
    ui.open_page(app, two_tenants[0].users[Role.ADMIN].id, PAGE)
    assert not app.exception, app.exception
    assert _recent(app) == {
        "llama3.2": "median 750 ms · last 600 ms (4 loads)",  # south's 77,777 ms is not shown
        "qwen2.5": "no loads recorded",
    }
    assert any("finds its model not loaded" in c.value for c in app.caption)


@pytest.mark.usefixtures("loopback")
def test_an_openai_only_server_says_it_reports_no_load_time(
    app: AppTest, two_tenants: Pair, peer: OllamaPeer
) -> None:
    peer.native_api = False
    ui.open_page(app, two_tenants[0].users[Role.ADMIN].id, PAGE)
    assert not app.exception, app.exception
    assert any("does not report load time" in c.value for c in app.caption)
