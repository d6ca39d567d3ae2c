"""Review queue: every agent draft waits here until a person with the right to decide does."""

from __future__ import annotations

import streamlit as st

from pages.components import review_actions as actions
from pages.components import review_checks, review_claims, when
from pages.components import review_detail as detail_pane
from pages.components.feedback import service_errors
from pages.components.review_filters import filter_bar, queue_table
from pages.components.session import current_user
from services import auth, review
from services.auth import Action

CURSORS = "rq_cursors"
LINK = "item"  # ?item=123 opens that item (a reload, a typed URL, a notification's link)
LINKED = "rq_linked"

user = current_user()
actor = user.actor
can_decide = auth.can_do(actor=actor, action=Action.DECIDE_REVIEW)
tz = when.zone()
head, keys = st.columns([5, 1])
head.title("Review queue")
with keys:
    review_claims.help_popover()
actions.show_flash()

with service_errors():
    counts = review.queue_counts(actor=actor)
    policy = review.get_policy(actor=actor)
plus = "+" if counts.capped else ""
tiles = st.columns(4)
tiles[0].metric("Pending", f"{counts.pending:,}{plus}")
tiles[1].metric("Due within 1 h", f"{counts.due_soon:,}{plus}")
tiles[2].metric("Overdue", f"{counts.overdue:,}{plus}")
tiles[3].metric("Claimed by me", f"{counts.mine:,}")

mine = [kind for kind, roles in policy.deciders.items() if actor.role in roles]
filters = filter_bar(mine if can_decide else [])
signature = filters.model_dump_json()
refiltered = st.session_state.get("rq_signature") != signature
if refiltered:
    st.session_state["rq_signature"] = signature
    st.session_state[CURSORS] = [None]
cursors: list[str | None] = st.session_state.setdefault(CURSORS, [None])

with service_errors():
    page = review.list_queue(actor=actor, filters=filters, cursor=cursors[-1])
ids = [row.id for row in page.items]
if refiltered and st.session_state.get(actions.CURRENT) not in ids:
    st.session_state[actions.CURRENT] = None  # the pane follows the filter
linked = st.query_params.get(LINK)
if linked != st.session_state.get(LINKED) and linked and linked.isdigit():
    st.session_state[actions.CURRENT] = int(linked)  # opened on purpose, even outside the filter

if can_decide:
    review_claims.next_button(actor, counts.mine)

left, right = st.columns([3, 2])
with left:
    total = f"{page.total:,}{'+' if page.total_capped else ''}" if page.total is not None else "?"
    st.caption(f"{total} items match · page {len(cursors)} · times in {tz.key}")
    selected = queue_table(page.items, tz)
    nav = st.columns(2)
    if nav[0].button("First page", disabled=len(cursors) == 1):
        st.session_state[CURSORS] = [None]
        st.rerun()
    if nav[1].button("Next page", disabled=page.next_cursor is None):
        cursors.append(page.next_cursor)
        st.rerun()
    if len(selected) == 1:
        st.session_state[actions.CURRENT] = selected[0]
    current = st.session_state.get(actions.CURRENT)
    options = ids if current in ids or current is None else [current, *ids]
    if options:
        picked = st.selectbox(
            "Open item",
            options,
            index=options.index(current) if current in options else 0,
            format_func=lambda i: f"#{i}",
            key=f"rq_open_{current}",
        )
        st.session_state[actions.CURRENT] = picked
    else:
        st.info("No items match these filters.")
    if can_decide and len(selected) > 1:
        versions = {r.id: r.row_version for r in page.items if r.id in selected}
        actions.bulk_form(actor, versions)

item_id = st.session_state.get(actions.CURRENT)
if item_id is None:
    st.query_params.pop(LINK, None)
else:
    st.query_params[LINK] = str(item_id)
st.session_state[LINKED] = st.query_params.get(LINK)

with right:
    if item_id is not None:
        with service_errors():
            detail = review.get_item(actor=actor, item_id=item_id)
        seen = actions.seen(detail)
        if item_id not in ids:
            st.caption("This item is not in the list as filtered; it was opened by its link.")
        detail_pane.artifact(detail)
        review_claims.status(detail, actor, tz)
        if seen.row_version != detail.item.row_version:
            st.warning("This item changed since you opened it.")
        if can_decide and seen.may_decide:
            with service_errors():
                report = review.pre_checks(actor=actor, item_id=item_id)
            review_checks.pre_checks(report)
            review_claims.buttons(detail, actor)
            actions.decision_forms(detail, actor, seen.row_version)
        elif auth.can_do(actor=actor, action=Action.RETRY_EXECUTION):
            actions.retry_button(detail, actor)
        detail_pane.history(detail)
