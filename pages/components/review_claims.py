"""The claim on a review item, in plain view: who holds it, until when, Claim / Renew / Release,
and what "Next item" does to the other claims you hold."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from pages.components import review_actions as actions
from pages.components import when
from pages.components.feedback import plain, service_errors
from services import review
from services.actor import Actor
from services.review import ReviewItemDetail

SHORTCUTS = {
    "A": "Approve the open item (as it is)",
    "E": "Edit the draft, then save and approve",
    "X": "Reject with the chosen reason",
    "N": "Next item: claim the most urgent one",
    "K": "Claim the open item (or renew your claim)",
}


def help_popover() -> None:
    """The keyboard shortcuts, listed where people look for them."""
    with st.popover("Keyboard shortcuts", icon=":material/keyboard:"):
        for key, what in SHORTCUTS.items():
            st.text(f"{key}  —  {what}")
        st.caption(
            "Shortcuts act when no text field has the focus. Enter in a comment field never "
            "approves or rejects: use the button (or its shortcut)."
        )


def status(detail: ReviewItemDetail, actor: Actor, tz: ZoneInfo) -> None:
    """Who holds the item and until when (a lapsed claim says so)."""
    item = detail.item
    expires = item.claim_expires_at
    now = datetime.now(UTC)
    if item.claimed_by_id is None or expires is None:
        st.caption("Not claimed: anyone allowed may claim it.")
    elif expires <= now:
        st.caption(f"The last claim lapsed {when.relative(expires)}.", help=when.utc(expires))
    else:
        who = "you" if item.claimed_by_id == actor.user_id else plain(detail.claimed_by or "?")
        when.caption(f"Claimed by {who} until", expires, tz)


def buttons(detail: ReviewItemDetail, actor: Actor) -> None:
    """Claim (or Renew your own claim) and Release."""
    item = detail.item
    live = item.claim_expires_at is not None and item.claim_expires_at > datetime.now(UTC)
    mine = live and item.claimed_by_id == actor.user_id
    claim_col, release_col = st.columns(2)
    if mine:
        if claim_col.button("Renew claim", key="renew", shortcut="K", icon=":material/update:"):
            actions.run(
                lambda: review.renew(actor=actor, item_id=item.id),
                lambda r: f"You hold #{r.id} until {when.local(r.claim_expires_at, _tz(detail))}.",
            )
    elif claim_col.button("Claim", key="claim", disabled=live, shortcut="K"):
        actions.run(
            lambda: review.claim(actor=actor, item_id=item.id),
            lambda r: f"You hold #{r.id} until {when.local(r.claim_expires_at, _tz(detail))}.",
        )
    if release_col.button("Release", key="release", disabled=not live):
        actions.run(
            lambda: review.release(actor=actor, item_id=item.id), lambda r: f"#{r.id} released."
        )


def _tz(detail: ReviewItemDetail) -> ZoneInfo:
    return ZoneInfo(detail.context.time_zone)


def next_button(actor: Actor, mine: int) -> None:
    """Next item: says beforehand that it releases your other claims, and afterwards which."""
    others = f"it releases the {mine} other item(s) you hold" if mine else "you hold no others"
    if st.button(
        "Next item",
        type="primary",
        icon=":material/skip_next:",
        shortcut="N",
        help=f"Claims the most urgent item you may decide; {others}.",
    ):
        with service_errors():
            held = _held(actor)

        def done(nxt: review.ReviewItemRead | None) -> str:
            st.session_state[actions.CURRENT] = nxt.id if nxt else None
            if nxt is None:
                return "Nothing left that you may decide. Well done."
            released = [i for i in held if i != nxt.id]
            freed = (
                f" Released your claim on {', '.join(f'#{i}' for i in released)}."
                if released
                else ""
            )
            return f"You hold #{nxt.id} now.{freed}"

        actions.run(lambda: review.next_item(actor=actor), done)
    st.caption(plain(f"Next item claims the most urgent item for you; {others}."))


def _held(actor: Actor) -> list[int]:
    page = review.list_queue(actor=actor, filters=review.ReviewQueueFilter(assignee="me"))
    return [row.id for row in page.items]
