"""Review queue actions: each runs one service call, then shows its outcome after a refresh."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

from pages.components.feedback import plain
from services import review
from services.actor import Actor
from services.errors import ServiceError
from services.review import ReviewItemDetail

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONEY_FIELDS = frozenset({"price", "amount", "discount_pct"})
EDITING = "review_editing"
FLASH = "review_flash"
CURRENT = "review_current_item"
SEEN = "review_seen"


@dataclass(frozen=True)
class Seen:
    """The item as the reviewer first saw it: decisions carry this version, not a fresh one."""

    item_id: int
    row_version: int
    may_decide: bool


def seen(detail: ReviewItemDetail) -> Seen:
    """What the reviewer saw of this item, remembered until their next action or item."""
    remembered = st.session_state.get(SEEN)
    if not isinstance(remembered, Seen) or remembered.item_id != detail.item.id:
        remembered = Seen(detail.item.id, detail.item.row_version, detail.may_decide)
        st.session_state[SEEN] = remembered
    return remembered


def show_flash() -> None:
    """The last action's outcome, shown once."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        kind, text = flash
        {"ok": st.success, "partial": st.warning}.get(kind, st.error)(text)


def _decided(result: review.DecisionResult) -> bool:
    return not result.ok  # approved, but carrying it out failed: an error, not a success


def run(
    action: Callable[[], Any],
    done: Callable[[Any], str],
    partial: Callable[[Any], bool] = lambda _outcome: False,
    failed: Callable[[Any], bool] = lambda _outcome: False,
) -> None:
    """Run an action; success (or partial success), a failure or a clear refusal goes to the
    flash, and the view refreshes."""
    try:
        outcome = action()
    except ServiceError as exc:
        st.session_state[FLASH] = ("error", f"**{exc.title}.** {plain(exc.message)}")
    else:
        kind = "error" if failed(outcome) else "partial" if partial(outcome) else "ok"
        st.session_state[FLASH] = (kind, plain(done(outcome)))
    st.session_state.pop(SEEN, None)
    st.rerun()


def _money_or_percent(name: str, value: int | float | str, label: str, wkey: str) -> object:
    """A typed input for a money or percent field; the stored type (and text) is kept when the
    reviewer leaves it as it was, so saving untouched records no edit."""
    try:
        start = float(value)
    except ValueError:
        return st.text_input(label, value=str(value), key=wkey)
    if name == "discount_pct":
        picked = st.number_input(
            f"{label} (%)", min_value=0.0, max_value=100.0, value=start, step=0.5,
            format="%.2f", key=wkey,
        )  # fmt: skip
    else:
        picked = st.number_input(
            label, min_value=0.0, value=start, step=100.0, format="%.2f", key=wkey
        )
    if picked == start:
        return value
    if isinstance(value, str):
        return f"{picked:.2f}"
    return int(picked) if isinstance(value, int) and picked.is_integer() else picked


def _iso_date(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _edited(editable: dict[str, Any], key: str) -> dict[str, Any]:
    """Typed inputs for exactly the fields the service says an edit may change (and execution
    reads): money and percent as numbers, dates as dates, prose as text areas."""
    edited: dict[str, Any] = {}
    for name, value in editable.items():
        label = plain(name.replace("_", " ").capitalize())
        wkey = f"{key}_{name}"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue  # not a value a form can edit faithfully: left as it is
        elif name in MONEY_FIELDS:
            edited[name] = _money_or_percent(name, value, label, wkey)
        elif isinstance(value, int):  # keep whole numbers whole: 10000 is not an edit of it
            edited[name] = st.number_input(label, value=value, step=1, key=wkey)
        elif isinstance(value, float):
            edited[name] = st.number_input(label, value=value, key=wkey)
        elif (day := _iso_date(value)) is not None:
            picked = st.date_input(label, value=day, key=wkey)
            edited[name] = picked.isoformat() if isinstance(picked, date) else value
        elif name in {"body", "terms", "notes", "hypothesis", "root_cause"} or "\n" in value:
            edited[name] = st.text_area(label, value=value, height=200, key=wkey)
        else:
            edited[name] = st.text_input(label, value=value, key=wkey)
    return edited


def decision_forms(detail: ReviewItemDetail, actor: Actor, version: int) -> None:
    """Approve, edit and approve, reject. Enter in a field never submits: only the buttons
    (or their shortcuts A, E, R) decide."""
    item = detail.item
    with st.form("approve_form", enter_to_submit=False):
        comment = st.text_input("Comment (optional)", key="approve_comment")
        if st.form_submit_button("Approve", type="primary", shortcut="A"):
            run(
                lambda: review.approve(
                    actor=actor, item_id=item.id, seen_version=version, comment=comment
                ),
                lambda r: r.message,
                failed=_decided,
            )
    editing = st.session_state.get(EDITING) == item.id
    if st.button(
        "Close the editor" if editing else "Edit and approve",
        key="edit_toggle",
        shortcut="E",
        icon=":material/edit:",
        disabled=not detail.editable,
        help=None if detail.editable else "Nothing in this draft can be edited.",
    ):
        st.session_state[EDITING] = None if editing else item.id
        st.rerun()
    if editing and detail.editable:
        with st.form("edit_form", enter_to_submit=False):
            edited = _edited(detail.editable, f"edit_{item.id}_{version}")
            if st.form_submit_button("Save edits and approve"):
                run(
                    lambda: review.edit_and_approve(
                        actor=actor, item_id=item.id, seen_version=version, edited_payload=edited
                    ),
                    lambda r: r.message,
                    failed=_decided,
                )
    with st.form("reject_form", enter_to_submit=False):
        reason = st.selectbox(
            "Reason", list(review.ReasonCode), format_func=review.REASON_LABELS.__getitem__
        )
        why = st.text_input("Comment", key="reject_comment")
        if st.form_submit_button("Reject", shortcut="X"):
            run(
                lambda: review.reject(
                    actor=actor,
                    item_id=item.id,
                    seen_version=version,
                    reason_code=reason,
                    comment=why,
                ),
                lambda r: r.message,
            )


def bulk_form(actor: Actor, versions: dict[int, int]) -> None:
    """Approve or reject every selected item; each is decided under the same rules."""
    with st.form("bulk_form"):
        st.markdown(f"**{len(versions)} selected**")
        reason = st.selectbox(
            "Reason (for reject)",
            list(review.ReasonCode),
            format_func=review.REASON_LABELS.__getitem__,
        )
        comment = st.text_input("Comment", key="bulk_comment")
        approve_col, reject_col = st.columns(2)
        approve_all = approve_col.form_submit_button("Approve selected")
        reject_all = reject_col.form_submit_button("Reject selected")
    if approve_all or reject_all:
        run(
            lambda: review.bulk_decide(
                actor=actor,
                versions=versions,
                approve_all=approve_all,
                reason_code=reason,
                comment=comment,
            ),
            _bulk_summary,
            partial=lambda result: bool(result.failed),
        )


def _bulk_summary(result: review.BulkResult) -> str:
    lines = [f"{result.succeeded} of {len(result.results)} decided."]
    lines += [f"#{r.item_id}: {r.message}" for r in result.failed]
    return "  \n".join(lines)


def retry_button(detail: ReviewItemDetail, actor: Actor) -> None:
    """An admin's retry of a failed execution."""
    item = detail.item
    if item.status is review.ReviewStatus.FAILED and st.button("Retry execution"):
        run(
            lambda: review.retry_execution(
                actor=actor, item_id=item.id, seen_version=item.row_version
            ),
            lambda r: r.message,
            failed=_decided,
        )
