"""Revo Console.

Imported (by uvicorn, which `streamlit run app.py` starts when it finds the st.App below), this
module is the ASGI app: Streamlit plus the console's routes and security headers. Executed by
Streamlit as the page script (``__name__ == "__main__"``), it sets the page config, signs the
person in and builds st.navigation from their role.
"""

from __future__ import annotations

import uuid

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import USER_KEY, sign_in, sign_out
from services import auth, logs, worker
from services.auth import Action, SignedInUser
from web import asgi

PAGES: list[tuple[Action, str, str, str]] = [
    (Action.VIEW_HOME, "pages/home.py", "Home", ":material/home:"),
    (Action.VIEW_REVIEW_QUEUE, "pages/review_queue.py", "Review queue", ":material/fact_check:"),
    (Action.VIEW_METRICS, "pages/metrics.py", "Run metrics", ":material/monitoring:"),
    (Action.VIEW_INVESTIGATIONS, "pages/investigations.py", "Investigations", ":material/search:"),
]


def sign_in_screen() -> None:
    st.title("Sign in to Revo Console")
    refusal = auth.demo_mode_refusal(server_address=st.get_option("server.address"))
    if refusal:
        st.error(plain(refusal))
        st.stop()
    st.caption("Demo sign-in: pick one of the seeded users. Real sign-in is not configured.")
    with service_errors():
        users = auth.list_demo_users()
    if not users:
        st.warning("There are no users yet. Seed demo data with `revo seed demo`.")
        st.stop()
    labels = {
        u.user_id: f"{u.tenant_name} — {u.display_name} ({u.role.value}, {u.email})" for u in users
    }
    with st.form("demo_sign_in"):
        user_id = st.selectbox("User", options=list(labels), format_func=labels.__getitem__)
        if st.form_submit_button("Sign in", type="primary"):
            with service_errors():
                sign_in(auth.demo_sign_in(user_id=user_id))
            st.rerun()


def main() -> None:
    st.set_page_config(
        page_title="Revo Console", page_icon=":material/verified_user:", layout="wide"
    )
    logs.configure_once()
    worker.start_embedded_worker()  # once per process; agent runs execute in the background
    logs.start(request_id=uuid.uuid4().hex[:12])  # this script run: one request of one session

    user = st.session_state.get(USER_KEY)
    if not isinstance(user, SignedInUser):
        st.navigation([st.Page(sign_in_screen, title="Sign in", icon=":material/login:")]).run()
        return

    logs.bind(
        tenant_id=user.actor.tenant_id, user_id=user.actor.user_id, role=user.actor.role.value
    )
    pages = [
        st.Page(path, title=title, icon=icon, default=(action is Action.VIEW_HOME))
        for action, path, title, icon in PAGES
        if auth.can_do(actor=user.actor, action=action)
    ]
    with st.sidebar:
        st.markdown(
            f"**{plain(user.display_name)}**  \n{plain(user.tenant_name)} · {user.actor.role.value}"
        )
        if st.button("Sign out", icon=":material/logout:"):
            sign_out()
            st.rerun()
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
else:
    app = st.App(
        __file__, routes=asgi.routes(), middleware=asgi.middleware(), secrets=asgi.secrets()
    )
