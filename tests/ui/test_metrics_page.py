"""The metrics page over real services: charts, tiles, drill-down, retry/cancel, CSV export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role, RunStatus
from domain.models import AgentRun
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.metrics_data import DAY1, END, Dataset, seed_metrics

Pair = tuple[TenantWithUsers, TenantWithUsers]
CHART_TITLES = {
    "Runs and success rate over time",
    "Runs by status",
    "LLM latency percentiles",
    "Rejections by reason",
    "Pending items by age",
    "Reviewer throughput per day",
}


def _open_metrics(app: AppTest, user_id: int) -> AppTest:
    app.run()
    app.selectbox[0].set_value(user_id)
    app.button[0].click().run()
    assert not app.exception, app.exception
    app.switch_page("pages/metrics.py").run()
    assert not app.exception, app.exception
    app.date_input(key="metrics_range").set_value((DAY1.date(), (END - timedelta(days=1)).date()))
    app.run()
    assert not app.exception, app.exception
    return app


def _pick_run(app: AppTest, run_id: int) -> AppTest:
    app.selectbox(key="run").set_value(run_id).run()
    assert not app.exception, app.exception
    return app


def _chart_titles(app: AppTest) -> set[str]:
    titles = set()
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        titles.add(spec["layout"]["title"]["text"])
    return titles


def _buttons(app: AppTest) -> set[str]:
    return {b.label for b in app.button}


@pytest.fixture
def seeded(two_tenants: Pair) -> tuple[TenantWithUsers, Dataset]:
    north, south = two_tenants
    return north, seed_metrics(north, south)


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_the_page_renders_every_chart_and_the_kpis_for_the_period(
    app: AppTest, seeded: tuple[TenantWithUsers, Dataset], role: Role
) -> None:
    north, _ = seeded
    _open_metrics(app, north.users[role].id)
    assert _chart_titles(app) == CHART_TITLES
    tiles = {m.label: m for m in app.metric}
    assert tiles["Runs"].value == "6"
    assert tiles["Success rate"].value == "60.0 %"
    assert tiles["Dead runs"].value == "1"
    assert tiles["Pending"].value == "3"
    assert tiles["Cost per approved draft"].value == "4.0 s model time"  # no price configured
    assert not app.error


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_viewer_sees_no_retry_or_cancel_buttons(
    app: AppTest, seeded: tuple[TenantWithUsers, Dataset]
) -> None:
    north, data = seeded
    _open_metrics(app, north.users[Role.VIEWER].id)
    for name in ("r3", "r4", "r6"):
        _pick_run(app, data.runs[name])
        assert not {"Retry run", "Cancel run"} & _buttons(app)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_admin_retries_a_failed_run_and_cancels_a_queued_one_from_the_drill_down(
    app: AppTest, seeded: tuple[TenantWithUsers, Dataset]
) -> None:
    north, data = seeded
    _open_metrics(app, north.users[Role.ADMIN].id)
    _pick_run(app, data.runs["r3"])
    assert "Retry run" in _buttons(app) and "Cancel run" not in _buttons(app)
    next(b for b in app.button if b.label == "Retry run").click().run()
    assert not app.exception, app.exception
    _pick_run(app, data.runs["r6"])
    next(b for b in app.button if b.label == "Cancel run").click().run()
    assert not app.exception, app.exception
    with UnitOfWork(None, readonly=True) as uow:
        r3 = uow.session.get(AgentRun, data.runs["r3"])
        r6 = uow.session.get(AgentRun, data.runs["r6"])
        assert r3 is not None and r3.status is RunStatus.RETRYING
        assert r6 is not None and r6.status is RunStatus.CANCELLED


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_drill_down_shows_the_llm_calls_and_review_items_of_the_selected_run(
    app: AppTest, seeded: tuple[TenantWithUsers, Dataset]
) -> None:
    north, data = seeded
    _open_metrics(app, north.users[Role.VIEWER].id)
    _pick_run(app, data.runs["r2"])
    frames = [d.value for d in app.dataframe]
    calls = next(f for f in frames if "prompt_version" in f.columns and "reasks" in f.columns)
    assert sorted(calls["id"]) == sorted([data.calls["c2"], data.calls["c3"]])
    assert set(calls["outcome"]) == {"repaired", "invalid"}
    items = next(f for f in frames if "subject_label" in f.columns)
    assert sorted(items["id"]) == sorted([data.items["i2"], data.items["i3"]])
    raw = [t.value for t in app.text]
    assert any("<b>not json</b>" in t for t in raw)  # shown as plain text, never as HTML


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_csv_export_neutralises_formulas(
    app: AppTest, seeded: tuple[TenantWithUsers, Dataset]
) -> None:
    north, data = seeded
    with UnitOfWork(None) as uow:
        run = uow.session.get(AgentRun, data.runs["r3"])
        assert run is not None
        run.error = '=HYPERLINK("http://evil.test","click")'
        uow.commit()
    _open_metrics(app, north.users[Role.VIEWER].id)
    assert [b.label for b in app.get("download_button")] == ["Download CSV"]
    preview = next(c.value for c in app.code if c.value.startswith("id,agent"))
    assert "'=HYPERLINK" in preview
    assert ",=HYPERLINK" not in preview and '"=HYPERLINK' not in preview
    # The on-screen table's own download button writes cells as shown: neutralised there too.
    recent = next(f.value for f in app.dataframe if "error" in f.value.columns)
    errors = [e for e in recent["error"] if isinstance(e, str) and "HYPERLINK" in e]
    assert errors == ['\'=HYPERLINK("http://evil.test","click")']
