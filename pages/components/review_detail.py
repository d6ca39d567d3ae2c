"""The review item's detail pane: the artifact as it will go out, its context and history.

Drafts come from a language model: every draft string is shown with st.text / st.code or in a
dataframe cell, never as markdown or HTML.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from pages.components import review_cards, review_checks, when
from pages.components.feedback import plain
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services import auth, review
from services.auth import Action
from services.review import ReviewItemDetail, ReviewKind

MAIL_KINDS = {ReviewKind.OUTREACH_EMAIL, ReviewKind.DUNNING_NOTICE}


def _text(label: str, value: Any) -> None:
    st.caption(plain(label))
    st.text(str(value) if value not in (None, "") else "—")


def _table(rows: list[dict[str, str]] | dict[str, str], empty: str) -> None:
    if not rows:
        st.caption(empty)
        return
    frame = (
        pd.DataFrame({"": list(rows), " ": list(rows.values())})
        if isinstance(rows, dict)
        else pd.DataFrame(rows)
    )
    safe_dataframe(frame, hide_index=True, width="stretch")


def artifact(detail: ReviewItemDetail) -> None:
    """The draft rendered like the real thing: an email, a proposal, a notice, a hypothesis."""
    item, ctx = detail.item, detail.context
    payload = item.payload
    st.subheader(f"#{item.id} · {item.kind.value.replace('_', ' ')}")
    tz = ZoneInfo(ctx.time_zone)
    st.caption(
        f"{item.status.value} · confidence {item.confidence:.0%} · risk {item.risk.value} · "
        f"priority {item.priority} · due {when.local(item.due_at, tz)} "
        f"({'OVERDUE, ' if item.overdue else ''}{when.relative(item.due_at)})",
        help=f"Due {when.utc(item.due_at)}",
    )
    if detail.needs_second_approver:
        who = "waiting for a second approver" if item.first_approver_id else "needs two approvers"
        st.warning(f"Four-eyes: the amount is above the limit — {who}.")
    if item.kind in MAIL_KINDS:
        _text("From", ctx.email_from)
        # Outreach goes to its (edited) To; a dunning notice always to the invoice's address.
        to = payload.get("to") if item.kind is ReviewKind.OUTREACH_EMAIL else None
        _text("To", to or ctx.email_to)
        _text("Subject", payload.get("subject"))
        st.code(str(payload.get("body", "")), language=None, wrap_lines=True)
        if item.kind is ReviewKind.DUNNING_NOTICE and "amount" in payload:
            st.caption(
                plain(
                    f"Level {payload.get('level', '?')} notice · "
                    f"{review_cards.money(payload['amount'], payload.get('currency'))} due "
                    f"{payload.get('due_date', '')}"
                )
            )
    elif review_cards.document(detail):
        pass
    else:
        shown = {k: v for k, v in payload.items() if k not in {"terms", "body", "notes"}}
        for key, value in shown.items():
            _text(key.replace("_", " ").capitalize(), value)
        for key in ("terms", "body", "notes"):
            if key in payload:
                _text(key.capitalize(), "")
                st.code(str(payload[key]), language=None, wrap_lines=True)
    if item.edit_diff:
        with st.expander(f"Reviewer's edit (distance {item.edit_distance})"):
            st.code(item.edit_diff, language="diff")
    review_checks.failure(detail)
    st.markdown("**Context**")
    _table(ctx.facts, "No context for this item.")
    if ctx.history:
        label = "Previous notices" if item.kind is ReviewKind.DUNNING_NOTICE else "History"
        st.markdown(f"**{label}**")
        _table(ctx.history, "")


def history(detail: ReviewItemDetail) -> None:
    """The item's audit trail, oldest first."""
    tz = ZoneInfo(detail.context.time_zone)
    with st.expander(f"Item history ({len(detail.audit)})"):
        _table(
            [
                {
                    "when": when.local(a.created_at, tz, "%Y-%m-%d %H:%M:%S"),
                    "who": a.actor_label,
                    "what": a.action.removeprefix("review."),
                    "status": str((a.after or {}).get("status", "")),
                    "note": a.reason or "",
                }
                for a in detail.audit
            ],
            "No history.",
        )
        if auth.can_do(actor=current_user().actor, action=Action.VIEW_AUDIT_LOG):
            st.page_link(
                "pages/audit_log.py",
                label="Full audit trail",
                icon=":material/history:",
                query_params={"entity": "review_item", "entity_id": str(detail.item.id)},
            )


def reason_label(code: review.ReasonCode) -> str:
    return review.REASON_LABELS[code]
