"""Hostile text seeded through the services is shown literally on every page.

Each test signs in, opens a page over data whose titles, names, drafts, log lines, errors and
notes hold markdown images, ``:red[…]`` directives, ``:material/…`` shortcodes, HTML, links,
bare URLs, LaTeX and backslashes, and asserts that every element of the page is shown as
written: nothing interpreted (see tests/ui/literal_support.py) and each string there verbatim.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from domain.base import utcnow
from domain.enums import (
    AgentName,
    EventSeverity,
    EventSource,
    LLMMode,
    LLMOutcome,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun, LLMCall
from services import review
from services.ingest import service as ingest
from services.investigations import correlation
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate, Severity
from services.tenants import TenantWithUsers, create_tenant_with_users
from services.uow import UnitOfWork
from tests.hostile import HOSTILE
from tests.integration import review_support as rs
from tests.integration.event_factory import add_events, event
from tests.integration.ingest_inputs import ingest_root, log_line
from tests.support.apptest import APP
from tests.ui.literal_support import assert_literal

__all__ = ["ingest_root"]
pytestmark = pytest.mark.usefixtures("demo_auth", "loopback")

TENANT = "![logo](http://evil.test/t.png) :red[Acme] :material/warning: <b>x</b> $t$ a\\b"
TITLE = "![p](http://evil.test/p.png?d=1) :red[Fake warning] [login](http://evil.test) $x$ c\\d"
SERVICE = ":red[svc] <i>x</i> http://evil.test"
NOTE = "\n".join(HOSTILE)


@pytest.fixture
def app() -> AppTest:
    """The console; these pages hold many elements, so a busy machine gets more time."""
    return AppTest.from_file(APP, default_timeout=90)


@pytest.fixture
def hostile(db_url: str) -> TenantWithUsers:
    return create_tenant_with_users(slug="evil", name=TENANT, email_domain="evil.test")


def _open(app: AppTest, user_id: int, page: str | None = None) -> AppTest:
    app.run()
    app.selectbox[0].set_value(user_id)
    app.button[0].click().run()
    assert not app.exception, app.exception
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def test_home_and_sidebar_show_a_hostile_tenant_and_user_name_literally(
    app: AppTest, hostile: TenantWithUsers
) -> None:
    _open(app, hostile.users[Role.REVIEWER].id)
    assert_literal(app, TENANT, f"Reviewer {TENANT.split()[0]}")


def _incident(tenant: TenantWithUsers) -> tuple[int, list[int]]:
    reviewer = tenant.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=reviewer,
        investigation_in=InvestigationCreate(
            title=TITLE,
            severity=Severity.HIGH,
            service=SERVICE,
            detected_at=detected,
            description=NOTE,
        ),
    )
    ids = add_events(
        tenant.tenant.id,
        [
            event(
                EventSource.LOGS,
                "log_error",
                detected - timedelta(minutes=i + 1),
                SERVICE,
                text,
                severity=EventSeverity.HIGH,
                message=text,
            )
            for i, text in enumerate(HOSTILE)
        ],
    )
    correlation.decide(actor=reviewer, investigation_id=inv.id, event_id=ids[0], accept=True)
    investigations.add_note(actor=reviewer, investigation_id=inv.id, body=NOTE)
    return inv.id, ids


def test_investigation_list_and_quarantine_show_hostile_titles_and_file_names_literally(
    app: AppTest, hostile: TenantWithUsers
) -> None:
    _incident(hostile)
    good = log_line(utcnow(), SERVICE, message=HOSTILE[3])
    report = ingest.ingest_upload(
        actor=hostile.actor(Role.ADMIN),
        source=EventSource.LOGS,
        filename=":red[x] <b>y</b> $z$ http:\\evil.test.jsonl",
        content=f"{good}\n{{not json :red[bad] <b>x</b>\n".encode(),
    )
    assert report.quarantined == 1 and report.inserted == 1
    _open(app, hostile.users[Role.ADMIN].id, "pages/investigations.py")
    assert_literal(app, TITLE, report.origin)


def test_investigation_detail_shows_hostile_title_events_hovers_and_notes_literally(
    app: AppTest, hostile: TenantWithUsers
) -> None:
    inv_id, ids = _incident(hostile)
    app.query_params["investigation"] = str(inv_id)
    _open(app, hostile.users[Role.REVIEWER].id, "pages/investigations.py")
    assert_literal(app, f"#{inv_id} {TITLE}", SERVICE, *HOSTILE)  # title, hovers, table, notes
    payload = next(n for n in app.number_input if n.label == "Show the full payload of event #")
    payload.set_value(ids[1]).run()
    assert_literal(app, HOSTILE[1])


def test_review_queue_shows_a_hostile_draft_and_subject_literally(
    app: AppTest, hostile: TenantWithUsers
) -> None:
    t = hostile.tenant.id
    subject = HOSTILE[0]
    item = rs.draft(
        t,
        rs.ReviewKind.OUTREACH_EMAIL,
        rs.lead(t),
        label=subject,
        payload={"subject": HOSTILE[1], "body": NOTE},
    )
    review.claim(actor=hostile.actor(Role.ADMIN), item_id=item.id)  # "Claimed by <name>"
    _open(app, hostile.users[Role.REVIEWER].id, "pages/review_queue.py")
    box = next(s for s in app.selectbox if s.label == "Open item")
    box.set_value(item.id).run()
    assert_literal(app, subject, HOSTILE[1], NOTE, f"Claimed by Admin {TENANT.split()[0]}")


def test_metrics_page_shows_hostile_run_errors_and_model_names_literally(
    app: AppTest, hostile: TenantWithUsers
) -> None:
    error = " ".join(HOSTILE[:6])
    model = ":red[m] <b>x</b>"
    with UnitOfWork(None) as uow:
        run = AgentRun(
            tenant_id=hostile.tenant.id,
            agent=AgentName.SDR,
            trigger=RunTrigger.MANUAL,
            subject_type="lead",
            subject_id=1,
            idempotency_key="evil-run",
            status=RunStatus.DEAD,
            attempts=3,
            error=error,
        )
        uow.session.add(run)
        uow.session.flush()
        uow.session.add(
            LLMCall(
                tenant_id=hostile.tenant.id,
                run_id=run.id,
                prompt_key="sdr.outreach",
                prompt_version=1,
                prompt_hash="0" * 64,
                model=model,
                mode=LLMMode.JSON_SCHEMA,
                latency_ms=100,
                attempts=1,
                outcome=LLMOutcome.INVALID,
                error=error,
                raw_output=NOTE,
            )
        )
        uow.commit()
    _open(app, hostile.users[Role.ADMIN].id, "pages/metrics.py")
    assert_literal(app, TENANT, error, model, NOTE)
