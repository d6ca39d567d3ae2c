"""The investigations page over real services: list, timeline, suspects, resolve, ingest."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, InvestigationStatus, LinkStatus, Role, Severity
from domain.models import EventLink
from services.ingest import service as ingest
from services.investigations import correlation, paths
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.event_factory import add_events, event
from tests.integration.ingest_inputs import ingest_root, log_line
from tests.support import apptest as ui
from tests.support import scenarios

__all__ = ["ingest_root"]
Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/investigations.py"


def _signed_in(app: AppTest, user_id: int, investigation_id: int | None = None) -> AppTest:
    app.run()
    app.selectbox[0].set_value(user_id)
    app.button[0].click().run()
    assert not app.exception, app.exception
    if investigation_id is not None:
        app.query_params["investigation"] = str(investigation_id)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_list_filters_and_opens_an_investigation_with_its_timeline_and_payload(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    investigations.create(
        actor=two_tenants[0].actor(Role.ADMIN),
        investigation_in=(
            InvestigationCreate(title="Search slow", severity=Severity.LOW, service="search")
        ),
    )
    _signed_in(app, two_tenants[0].users[Role.VIEWER].id)
    assert app.title[0].value == "Investigations"
    assert any("2 investigations match" in c.value for c in app.caption)
    app.text_input[0].set_value("checkout").run()
    assert any("1 investigations match" in c.value for c in app.caption)
    app.button(key=f"open_{inv_id}").click().run()
    assert not app.exception, app.exception

    assert ui.text(app.title[0].value) == f"#{inv_id} Checkout 500s"
    assert any("3 events from" in c.value for c in app.caption)
    assert len(app.get("plotly_chart")) == 1
    assert list(app.dataframe[0].value["id"]) == [ids["commit"], ids["deploy"], ids["spike"]]
    app.number_input[2].set_value(ids["deploy"]).run()
    assert any("commit_sha" in j.value for j in app.json)
    assert not [b for b in app.button if b.label in ("Accept", "Change status")]  # a viewer


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_reviewer_accepts_the_suspect_deploy_and_resolves_with_a_root_cause(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    reviewer = two_tenants[0].actor(Role.REVIEWER)
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id, inv_id)
    assert any("1. Deploy 41 of checkout" in ui.text(m.value) for m in app.markdown)
    app.button(key=f"suspect_accept_{ids['deploy']}").click().run()
    assert not app.exception, app.exception
    (link,) = correlation.links(actor=reviewer, investigation_id=inv_id)
    assert link.event.id == ids["deploy"] and link.status is LinkStatus.ACCEPTED
    assert not app.button(key=f"suspect_accept_{ids['commit']}").disabled

    form_select = next(s for s in app.selectbox if s.label == "Move to")
    form_select.set_value(InvestigationStatus.RESOLVED)
    app.button(key="FormSubmitter:status_form-Change status").click().run()
    assert any("root cause" in ui.text(e.value) for e in app.error)
    assert investigations.get(actor=reviewer, investigation_id=inv_id).status.value == "open"

    next(s for s in app.selectbox if s.label == "Move to").set_value(InvestigationStatus.RESOLVED)
    next(t for t in app.text_area if t.label.startswith("Root cause")).set_value(
        "Deploy 41 dropped the cart index"
    )
    app.button(key="FormSubmitter:status_form-Change status").click().run()
    assert not app.exception, app.exception
    done = investigations.get(actor=reviewer, investigation_id=inv_id)
    assert done.status is InvestigationStatus.RESOLVED
    assert done.root_cause == "Deploy 41 dropped the cart index"
    assert any("Deploy 41 dropped the cart index" in ui.text(i.value) for i in app.info)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_only_roles_that_may_ingest_see_the_panel_and_a_path_ingest_reports_counts(
    app: AppTest, two_tenants: Pair, ingest_root: Path
) -> None:
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id)
    assert not any(h.value == "Ingest events" for h in app.subheader)

    (ingest_root / "app.log").write_text(log_line(utcnow() - timedelta(hours=1), "a") + "\n{x\n")
    admin_app = AppTest.from_file(
        str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=30
    )
    _signed_in(admin_app, two_tenants[0].users[Role.ADMIN].id)
    assert any(h.value == "Ingest events" for h in admin_app.subheader)
    next(s for s in admin_app.selectbox if s.key == "path_source").set_value("logs")
    next(t for t in admin_app.text_input if t.label.startswith("Path")).set_value("../etc")
    admin_app.button(key="FormSubmitter:ingest_path-Ingest path").click().run()
    assert any("contains '..'" in ui.text(e.value) for e in admin_app.error)

    next(t for t in admin_app.text_input if t.label.startswith("Path")).set_value("app.log")
    admin_app.button(key="FormSubmitter:ingest_path-Ingest path").click().run()
    assert not admin_app.exception, admin_app.exception
    assert any(
        "1 new events" in ui.text(s.value) and "1 quarantined" in ui.text(s.value)
        for s in admin_app.success
    )
    admin_app.run()
    assert any("line 2" in e.label for e in admin_app.expander)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_note_typed_on_the_page_appears_on_the_timeline_and_in_the_notes(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, _ = scenarios.incident(two_tenants)
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id, inv_id)
    next(t for t in app.text_input if t.label == "What happened").set_value("Rolled back 41")
    app.button(key="FormSubmitter:manual_event-Add to timeline").click().run()
    assert not app.exception, app.exception
    assert any("4 events from" in c.value for c in app.caption)
    assert "Rolled back 41" in list(app.dataframe[0].value["title"])
    next(t for t in app.text_area if t.label == "New note").set_value("Cart index is back")
    app.button(key="FormSubmitter:note_form-Add note").click().run()
    notes = investigations.list_notes(
        actor=two_tenants[0].actor(Role.VIEWER), investigation_id=inv_id
    )
    assert [n.body for n in notes] == ["Cart index is back"]
    assert any("Cart index is back" in ui.text(m.value) for m in app.markdown)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_unknown_investigation_shows_a_clear_message(app: AppTest, two_tenants: Pair) -> None:
    _signed_in(app, two_tenants[0].users[Role.VIEWER].id, 999_999)
    assert any("no investigation #999999" in ui.text(e.value) for e in app.error)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_incident_found_hours_ago_is_opened_with_its_detection_time_and_then_edited(
    app: AppTest, two_tenants: Pair
) -> None:
    reviewer = two_tenants[0].actor(Role.REVIEWER)
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id)
    found = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
    next(t for t in app.text_input if t.label == "Title").set_value("Queue backlog")
    app.date_input(key="new_detected_day").set_value(found.date())
    app.time_input(key="new_detected_time").set_value(found.time())
    next(t for t in app.text_input if t.label.startswith("Tags")).set_value("Queue, sev2")
    app.button(key="FormSubmitter:create_investigation-Open investigation").click().run()
    assert not app.exception, app.exception
    inv_id = int(app.query_params["investigation"])
    opened = investigations.get(actor=reviewer, investigation_id=inv_id)
    assert (opened.detected_at, opened.tags) == (found, ["queue", "sev2"])

    started = found - timedelta(minutes=20)
    next(t for t in app.text_input if t.label == "Title").set_value("Queue backlog in billing")
    app.date_input(key="edit_started_day").set_value(started.date())
    app.time_input(key="edit_started_time").set_value(started.time())
    next(t for t in app.text_area if t.label == "Root cause").set_value("Stuck consumer")
    app.button(key="FormSubmitter:edit_form-Save changes").click().run()
    assert not app.exception, app.exception
    edited = investigations.get(actor=reviewer, investigation_id=inv_id)
    assert (edited.title, edited.started_at, edited.root_cause) == (
        "Queue backlog in billing",
        started,
        "Stuck consumer",
    )
    assert edited.detected_at == found  # untouched, unchanged


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_suggestions_follow_the_window_and_severity_chosen_and_keep_the_score_shown(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id, inv_id)
    # The deploy is a change: it is listed once, among the suspect changes, not again as a signal.
    assert app.button(key=f"suspect_accept_{ids['deploy']}")
    assert not [b for b in app.button if b.key == f"suggestion_accept_{ids['deploy']}"]
    assert app.button(key=f"suggestion_accept_{ids['spike']}")  # info and up, 6 h before
    app.selectbox(key="corr_sev").set_value(EventSeverity.HIGH).run()
    assert not app.exception, app.exception
    shown = [b.key for b in app.button if (b.key or "").startswith("suggestion_accept_")]
    assert shown == [f"suggestion_accept_{ids['spike']}"]
    app.number_input(key="corr_before").set_value(1).run()
    score = next(
        c.value for c in app.caption if c.value.startswith("score") and "error spike" in c.value
    )
    app.button(key=f"suggestion_accept_{ids['spike']}").click().run()
    assert not app.exception, app.exception
    (link,) = correlation.links(actor=two_tenants[0].actor(Role.VIEWER), investigation_id=inv_id)
    assert link.event.id == ids["spike"] and f"score {link.score:.2f}" in score


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_quarantine_pages_through_more_records_than_fit_on_one_page(
    app: AppTest, two_tenants: Pair, ingest_root: Path
) -> None:
    good = log_line(utcnow() - timedelta(hours=1), "a")
    (ingest_root / "bad.log").write_text(good + "\n" + "\n".join(["{oops"] * 25) + "\n")
    report = ingest.ingest_file(
        actor=two_tenants[0].actor(Role.ADMIN), source=EventSource.LOGS, path="bad.log"
    )
    assert (report.inserted, report.quarantined) == (1, 25)
    _signed_in(app, two_tenants[0].users[Role.ADMIN].id)

    def lines() -> list[str]:
        return [e.label for e in app.expander if " · line " in e.label]

    assert len(lines()) == 20 and "line 26" in lines()[0]  # newest first
    app.button(key="q_next").click().run()
    assert not app.exception, app.exception
    assert len(lines()) == 5 and "line 2" in lines()[-1]
    app.button(key="q_prev").click().run()
    assert len(lines()) == 20


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_stored_suggestion_is_shown_ranked_and_moves_tab_when_accepted_or_rejected(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    north = two_tenants[0]
    (far,) = add_events(
        north.tenant.id,
        [
            event(
                EventSource.GIT,
                "commit",
                utcnow() - timedelta(days=5),
                "checkout",
                "Rework cart totals",
                files=["checkout/totals.py"],
            )
        ],
    )
    with UnitOfWork(None) as uow:
        uow.session.add(
            EventLink(
                tenant_id=north.tenant.id,
                investigation_id=inv_id,
                event_id=far,
                rule="deploy_window",
                score=0.93,
                reasons=["same service"],
                status=LinkStatus.SUGGESTED,
            )
        )
        uow.commit()
    _signed_in(app, north.users[Role.REVIEWER].id, inv_id)
    assert [t.label for t in app.tabs] == ["Suggested (4)", "Accepted (0)", "Rejected (0)"]
    assert any(
        "Rework cart totals" in ui.text(m.value) and "stored suggestion" in ui.text(m.value)
        for m in app.tabs[0].markdown
    )
    assert app.button(key=f"suspect_accept_{far}")
    accept_keys = [b.key for b in app.button if (b.key or "").endswith("_accept_" + str(far))]
    assert accept_keys == [f"suspect_accept_{far}"]  # in exactly one place

    app.button(key=f"suspect_accept_{far}").click().run()
    assert not app.exception, app.exception
    assert [t.label for t in app.tabs] == ["Suggested (3)", "Accepted (1)", "Rejected (0)"]
    assert any("Rework cart totals" in ui.text(m.value) for m in app.tabs[1].markdown)
    app.button(key=f"suggestion_reject_{ids['spike']}").click().run()
    assert not app.exception, app.exception
    assert [t.label for t in app.tabs] == ["Suggested (2)", "Accepted (1)", "Rejected (1)"]
    assert any("Error spike" in ui.text(m.value) for m in app.tabs[2].markdown)
    statuses = {
        link.event.id: link.status
        for link in correlation.links(
            actor=north.actor(Role.VIEWER), investigation_id=inv_id, status=None
        )
    }
    assert statuses == {far: LinkStatus.ACCEPTED, ids["spike"]: LinkStatus.REJECTED}


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_wrong_event_id_for_the_payload_shows_a_message_and_keeps_the_page(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    other = add_events(
        two_tenants[1].tenant.id,
        [event(EventSource.CI, "deploy", utcnow() - timedelta(hours=1), "checkout")],
    )[0]
    _signed_in(app, two_tenants[0].users[Role.REVIEWER].id, inv_id)
    payload = next(n for n in app.number_input if n.label.startswith("Show the full payload"))
    for wrong in (999_999, other):  # no such event; another tenant's event
        payload.set_value(wrong).run()
        assert not app.exception, app.exception
        assert any(f"no event #{wrong}" in ui.text(w.value) for w in app.warning)
        assert not app.error and not app.json
        assert any(s.value == "Notes" for s in app.subheader)  # the rest of the page is there
        assert app.button(key=f"suspect_accept_{ids['deploy']}")
    payload.set_value(ids["spike"]).run()
    assert any("errors_at_onset" in j.value for j in app.json) and not app.warning


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_path_map_is_edited_on_the_page_and_a_bad_line_is_refused_with_its_number(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, _ = scenarios.incident(two_tenants)
    north = two_tenants[0]
    _signed_in(app, north.users[Role.REVIEWER].id, inv_id)
    box = next(t for t in app.text_area if t.label.startswith("One per line"))
    box.set_value("services/checkout/ = checkout\nthis line has no service")
    app.button(key="FormSubmitter:service_paths-Save paths").click().run()
    assert not app.exception, app.exception
    assert any("Line 2" in ui.text(e.value) for e in app.error)
    assert paths.get_map(actor=north.actor(Role.VIEWER)) == []

    box = next(t for t in app.text_area if t.label.startswith("One per line"))
    box.set_value("services/checkout/ = checkout\nacme/config/checkout/ = checkout")
    app.button(key="FormSubmitter:service_paths-Save paths").click().run()
    assert not app.exception, app.exception
    saved = paths.get_map(actor=north.actor(Role.VIEWER))
    assert [(e.prefix, e.service) for e in saved] == [
        ("acme/config/checkout/", "checkout"),
        ("services/checkout/", "checkout"),
    ]
    box = next(t for t in app.text_area if t.label.startswith("One per line"))
    assert "services/checkout/ = checkout" in box.value


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_timeline_reads_in_the_tenant_s_time_zone(app: AppTest, two_tenants: Pair) -> None:
    from zoneinfo import ZoneInfo

    from sqlalchemy import update

    from domain.models import Tenant

    north = two_tenants[0]
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(Tenant)
            .where(Tenant.id == north.tenant.id)
            .values(settings={"timezone": "America/New_York"})
        )
        uow.commit()
    inv_id, ids = scenarios.incident(two_tenants)
    _signed_in(app, north.users[Role.VIEWER].id, inv_id)
    assert not app.exception, app.exception
    frame = app.dataframe[0].value
    column = "time (America/New_York)"
    assert column in frame.columns
    with UnitOfWork(None, readonly=True) as uow:
        from domain.models import Event

        deploy = uow.session.get(Event, ids["deploy"])
        assert deploy is not None
        at = deploy.occurred_at
    wall = at.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    shown = frame.set_index("id").loc[ids["deploy"], column].to_pydatetime()
    assert abs((shown - wall).total_seconds()) < 1  # New York wall clock, not UTC
    assert any(
        " EST" in c.value or " EDT" in c.value for c in app.caption if "events from" in c.value
    )
    chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["xaxis"]["title"]["text"] == "time (America/New_York)"
    start_ms = chart["layout"]["xaxis"]["range"][0]
    detected = investigations.get(actor=north.actor(Role.VIEWER), investigation_id=inv_id)
    start = detected.detected_at - timedelta(hours=6)
    wall_start = start.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    assert abs(start_ms / 1000 - (wall_start - datetime(1970, 1, 1)).total_seconds()) < 1
