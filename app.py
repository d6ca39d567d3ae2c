"""Revo Console.

Imported (by uvicorn, which `streamlit run app.py` starts when it finds the st.App below), this
module is the ASGI app: Streamlit plus the console's routes and security headers. Executed by
Streamlit as the page script (``__name__ == "__main__"``), it sets the page config, signs the
person in and builds st.navigation from their role.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pages.components import session
from pages.components.feedback import plain, service_errors
from pages.components.sign_in import sign_in_screen
from services import auth, logs, worker
from services.auth import Action
from web import asgi

PAGES: list[tuple[Action, str, str, str]] = [
    (Action.VIEW_HOME, "pages/home.py", "Home", ":material/home:"),
    (Action.VIEW_REVIEW_QUEUE, "pages/review_queue.py", "Review queue", ":material/fact_check:"),
    (Action.TRIGGER_RUN, "pages/work.py", "Work", ":material/work:"),
    (Action.VIEW_METRICS, "pages/metrics.py", "Run metrics", ":material/monitoring:"),
    (Action.VIEW_INVESTIGATIONS, "pages/investigations.py", "Investigations", ":material/search:"),
    (Action.MANAGE_PROMPTS, "pages/prompts.py", "Prompts", ":material/edit_note:"),
    (Action.MANAGE_SCHEDULES, "pages/schedules.py", "Schedules", ":material/schedule:"),
    (Action.MANAGE_MODELS, "pages/models.py", "Models", ":material/memory:"),
    (Action.MANAGE_USERS, "pages/people.py", "People", ":material/group:"),
    (Action.MANAGE_USERS, "pages/api_tokens.py", "API tokens", ":material/key:"),
    (Action.MANAGE_POLICIES, "pages/policies.py", "Policies", ":material/policy:"),
    (Action.VIEW_AUDIT_LOG, "pages/audit_log.py", "Audit log", ":material/history:"),
    (Action.MANAGE_ALERTS, "pages/alerts.py", "Alert rules", ":material/notifications_active:"),
    (Action.MANAGE_ALERTS, "pages/notify_channels.py", "Channels & webhooks", ":material/webhook:"),
    (
        Action.MANAGE_MY_NOTIFICATIONS,
        "pages/my_notifications.py",
        "My notifications",
        ":material/notifications:",
    ),
]


def _signed_out_pages() -> list[StreamlitPage]:
    """The sign-in screen, also under every page's URL: a link such as
    ``/review_queue?item=12`` shows the sign-in screen and, signed in, opens that page with its
    query (instead of "Page not found")."""
    screen = st.Page(sign_in_screen, title="Sign in", icon=":material/login:", default=True)
    paths = {Path(path).stem for action, path, _, _ in PAGES if action is not Action.VIEW_HOME}
    paths.add("account")
    return [screen] + [
        st.Page(sign_in_screen, title="Sign in", url_path=path) for path in sorted(paths)
    ]


def main() -> None:
    # An emoji icon is inlined by Streamlit; a :material/ icon would be fetched from a font host.
    st.set_page_config(page_title="Revo Console", page_icon="🛡️", layout="wide")
    logs.configure_once()
    worker.start_embedded_worker()  # once per process; agent runs execute in the background
    logs.start(request_id=uuid.uuid4().hex[:12])  # this script run: one request of one session

    with service_errors():
        user = session.resolve()
    if user is None:
        st.navigation(_signed_out_pages(), position="hidden").run()
        return
    session.browser_handoff()  # a fresh password sign-in: the browser gets its session cookie

    logs.bind(
        tenant_id=user.actor.tenant_id, user_id=user.actor.user_id, role=user.actor.role.value
    )
    pages = [
        st.Page(path, title=title, icon=icon, default=(action is Action.VIEW_HOME))
        for action, path, title, icon in PAGES
        if auth.can_do(actor=user.actor, action=action)
    ]
    if user.method == "password":
        pages.append(st.Page("pages/account.py", title="My account", icon=":material/person:"))
    with st.sidebar:
        st.markdown(
            f"**{plain(user.display_name)}**  \n{plain(user.tenant_name)} · {user.actor.role.value}"
        )
        if st.button("Sign out", icon=":material/logout:"):
            session.sign_out()
            st.rerun()
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
else:
    asgi.configure_streamlit()
    app = st.App(
        __file__, routes=asgi.routes(), middleware=asgi.middleware(), secrets=asgi.secrets()
    )
