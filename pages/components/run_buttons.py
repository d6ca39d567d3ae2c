"""Run buttons on a subject, and the progress of the runs this person started from them."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.review_actions import CURRENT
from services import auth, work
from services.actor import Actor
from services.auth import Action

STARTED = "work_started_runs"  # run ids this session started, newest first
REVIEW_PAGE = "pages/review_queue.py"


def buttons(actor: Actor, subject_type: str, subject_id: int) -> None:
    """One button per agent the actor may run on this subject; a press queues a run."""
    allowed = work.actions_for(actor=actor, subject_type=subject_type)
    if not allowed:
        return
    cols = st.columns(len(allowed))
    for col, action in zip(cols, allowed, strict=True):
        key = f"run_{action.agent.value}_{subject_type}_{subject_id}"
        if col.button(action.label, key=key, icon=":material/smart_toy:"):
            with service_errors():
                run = work.start(
                    actor=actor,
                    agent=action.agent,
                    subject_type=subject_type,
                    subject_id=subject_id,
                )
            started: list[int] = st.session_state.setdefault(STARTED, [])
            started.insert(0, run.id)
            del started[10:]


@st.fragment(run_every=2)
def progress(actor: Actor) -> None:
    """The runs started in this session: status, then a link to each review item produced."""
    started: list[int] = st.session_state.get(STARTED, [])
    if not started:
        return
    may_review = auth.can_do(actor=actor, action=Action.VIEW_REVIEW_QUEUE)
    st.subheader("Runs you started")
    for run_id in started:
        with service_errors():
            p = work.progress(actor=actor, run_id=run_id)
        run = p.run
        line = (
            f"Run #{run.id} · {run.agent.value} on {run.subject_type} #{run.subject_id} · "
            f"**{run.status.value}** · attempt {run.attempts}/{run.max_attempts}"
        )
        cols = st.columns([4, 1])
        cols[0].markdown(line)
        if run.error:
            cols[0].caption(plain(run.error.splitlines()[0][:200]))
        elif not p.finished:
            cols[0].caption("Waiting for a worker…" if run.attempts == 0 else "Drafting…")
        for item_id in p.review_item_ids:
            if may_review and cols[1].button(f"Open review #{item_id}", key=f"open_{item_id}"):
                st.session_state[CURRENT] = item_id
                st.switch_page(REVIEW_PAGE)
            elif not may_review:
                cols[1].caption(f"Review item #{item_id}")
