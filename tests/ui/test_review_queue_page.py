"""The review queue page over real services: a reviewer, a finance user and a viewer."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import EmailStatus, ReviewKind, ReviewStatus, Role
from services import review
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
pytestmark = pytest.mark.usefixtures("demo_auth", "loopback")


def test_reviewer_opens_an_email_draft_and_approves_it(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    item = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    rs.draft(t, ReviewKind.DUNNING_NOTICE, rs.invoice(t))
    ui.open_queue(app, north.users[Role.REVIEWER].id)

    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Pending"] == "2" and tiles["Overdue"] == "0"
    assert len(app.dataframe[0].value) == 2
    ui.open_item(app, item.id)
    texts = [t.value for t in app.text]
    assert "Jane Doe <jane@example.test>" in texts and "Quick question" in texts
    assert any("Shall we talk?" in c.value for c in app.code)

    ui.button(app, "Approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    assert "approved and carried out" in ui.text(app.success[0].value)
    assert rs.count_emails(status=EmailStatus.SANDBOXED) == 1
    assert len(app.dataframe[0].value) == 1  # the approved item left the pending list


def test_reviewer_edits_a_draft_then_approves_the_edit(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    ui.edit(app)
    body = next(a for a in app.text_area if a.label == "Body")
    body.set_value("Hello Jane,\nTen minutes on Friday?")
    ui.button(app, "Save edits and approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    done = review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id).item
    assert done.status is ReviewStatus.EXECUTED
    assert done.edited_payload and "Friday" in done.edited_payload["body"]
    assert done.edit_distance and done.edit_distance > 0


def test_saving_a_proposal_untouched_approves_it_without_recording_an_edit(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    ui.open_queue(app, north.users[Role.SALES].id)
    ui.open_item(app, item.id)
    ui.edit(app)
    amount = next(n for n in app.number_input if n.label == "Amount")
    assert amount.value == 10000
    ui.button(app, "Save edits and approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    done = review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id).item
    assert done.status is ReviewStatus.EXECUTED
    assert (done.edited_payload, done.edit_distance) == (None, None)


def test_a_conflict_is_shown_as_a_message_and_the_view_refreshes(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    review.reject(
        actor=north.actor(Role.SDR),
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=review.ReasonCode.DUPLICATE,
    )
    ui.button(app, "Approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    message = ui.text(app.error[0].value)
    assert "Changed by someone else" in message and "Sdr North rejected review item" in message
    assert len(app.dataframe[0].value) == 0 and rs.count_emails() == 0


def test_reviewer_rejects_with_a_reason(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    next(s for s in app.selectbox if s.label == "Reason").set_value(review.ReasonCode.TONE)
    next(t for t in app.text_input if t.label == "Comment").set_value("Too pushy")
    ui.button(app, "Reject").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    done = review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id).item
    assert done.status is ReviewStatus.REJECTED and done.comment == "Too pushy"


def test_finance_user_sees_a_dunning_notice_with_invoice_context_and_a_policy_refusal(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    from domain.base import utcnow

    invoice_id = rs.invoice(t, last_dunned_at=utcnow())
    notice = rs.draft(t, ReviewKind.DUNNING_NOTICE, invoice_id)
    rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    ui.open_queue(app, north.users[Role.FINANCE].id)
    assert list(app.dataframe[0].value["kind"]) == ["dunning_notice"]  # finance's kinds
    ui.open_item(app, notice.id)
    facts = app.dataframe[1].value
    assert "Days overdue" in list(facts.iloc[:, 0]) and "INV-1" in list(facts.iloc[:, 1])
    ui.button(app, "Approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    assert "dunning cadence" in ui.text(app.error[0].value)
    assert review.get_item(actor=north.actor(Role.ADMIN), item_id=notice.id).item.status is (
        ReviewStatus.PENDING
    )


def test_next_item_claims_and_opens_the_most_urgent_item(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    urgent = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t, email="b@x.test"), priority=0)
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.button(app, "Next item").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    assert any(f"#{urgent.id}" in s.value for s in app.subheader)
    held = review.get_item(actor=north.actor(Role.ADMIN), item_id=urgent.id)
    assert held.item.claimed_by_id == north.users[Role.REVIEWER].id


def test_viewer_sees_the_queue_and_the_draft_but_no_actions(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.VIEWER].id)
    ui.open_item(app, item.id)
    assert any("Shall we talk?" in c.value for c in app.code)
    labels = {b.label for b in app.button}
    assert not labels & {"Approve", "Reject", "Claim", "Release", "Next item", "Retry execution"}
    assert len(app.text_area) == 0


def test_draft_text_is_shown_literally_never_as_markdown_or_html(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    hostile = "<script>alert(1)</script> **bold** [click](http://evil.test)"
    item = rs.draft(
        north.tenant.id,
        ReviewKind.OUTREACH_EMAIL,
        rs.lead(north.tenant.id),
        payload={"subject": hostile, "body": hostile},
    )
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    assert hostile in [t.value for t in app.text]
    assert all(hostile not in m.value for m in app.markdown)


def test_the_card_shows_the_pre_checks_before_the_reviewer_clicks(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    reviewer = north.users[Role.REVIEWER].id
    item = rs.draft(
        t, ReviewKind.OUTREACH_EMAIL, rs.lead(t, do_not_contact=True), triggered_by_id=reviewer
    )
    ui.open_queue(app, reviewer)
    ui.open_item(app, item.id)
    errors = [ui.text(e.value) for e in app.error]
    assert any("do-not-contact" in e and "Jane Doe" in e for e in errors), errors
    assert any("you triggered the run" in e for e in errors), errors
    assert "Before you approve" in [ui.text(m.value).strip("*") for m in app.markdown]
    assert rs.count_emails() == 0 and not app.success


def test_a_failed_execution_is_shown_as_a_failure_with_the_next_step(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    from domain.enums import DealStage
    from domain.models import Deal
    from services.uow import UnitOfWork

    deal_id = rs.deal(t)
    with UnitOfWork(None) as uow:
        deal = uow.session.get(Deal, deal_id)
        assert deal is not None
        deal.stage = DealStage.CLOSED_LOST
        uow.commit()
    item = rs.draft(t, ReviewKind.COUNTER_OFFER, deal_id)
    ui.open_queue(app, north.users[Role.SALES].id)
    ui.open_item(app, item.id)
    assert any("Approving would fail" in ui.text(e.value) for e in app.error)  # said beforehand
    ui.button(app, "Approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    assert not app.success, [s.value for s in app.success]
    flash = ui.text(app.error[0].value)
    assert "carrying it out failed" in flash and "closed lost" in flash and "Next step" in flash
    assert review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id).item.status is (
        ReviewStatus.FAILED
    )


def test_the_edit_form_offers_only_what_execution_honours_and_an_edited_to_is_used(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    invoice_id = rs.invoice(t)
    payload = {"invoice_id": invoice_id, "to": "ap@example.test", "level": 1,
               "subject": "Reminder: INV-1", "body": "Please pay INV-1."}  # fmt: skip
    notice = rs.draft(t, ReviewKind.DUNNING_NOTICE, invoice_id, payload=payload)
    item = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    ui.open_queue(app, north.users[Role.ADMIN].id)
    ui.open_item(app, item.id)  # the first run opened the most urgent item: pick from there
    ui.open_item(app, notice.id)
    assert [s.value for s in app.subheader] == [f"#{notice.id} · dunning notice"]
    ui.edit(app)
    offered = {w.label for w in [*app.text_input, *app.number_input, *app.text_area]}
    assert {"Subject", "Body"} <= offered
    assert not offered & {"To", "Invoice id", "Level"}, offered

    ui.open_item(app, item.id)  # the selectbox's key follows the open item: twice to switch
    ui.open_item(app, item.id)
    ui.edit(app)
    to = next(w for w in app.text_input if w.label == "To")
    assert to.value == "jane@example.test"
    to.set_value("j.doe@example.test")
    ui.button(app, "Save edits and approve").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    assert "approved and carried out" in ui.text(app.success[0].value)
    assert rs.count_emails(to_addr="j.doe@example.test") == 1 and rs.count_emails() == 1
