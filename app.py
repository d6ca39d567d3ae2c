"""Revo Console.

Imported (by uvicorn, which `streamlit run app.py` starts when it finds the st.App below), this
module is the ASGI app: Streamlit plus the console's routes and security headers. Executed by
Streamlit as the page script (``__name__ == "__main__"``), it sets the page config, signs the
person in and builds st.navigation from their role.
"""

from __future__ import annotations

import uuid

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pages.components import session
from pages.components.feedback import plain, service_errors
from pages.components.sign_in import sign_in_screen
from services import auth, logs, worker
from services.auth import Action
from web import asgi

# (section, permission, script in pages/, title, material icon), in menu order. Sections keep
# a long menu readable; Streamlit would fold an unsectioned one behind "View more".
A = Action
PAGES: list[tuple[str, Action, str, str, str]] = [
    ("Work", A.VIEW_HOME, "home", "Home", "home"),
    ("Work", A.VIEW_REVIEW_QUEUE, "review_queue", "Review queue", "fact_check"),
    ("Work", A.TRIGGER_RUN, "work", "Work", "work"),
    ("Work", A.VIEW_INVESTIGATIONS, "investigations", "Investigations", "search"),
    ("Watch", A.VIEW_METRICS, "metrics", "Run metrics", "monitoring"),
    ("Watch", A.VIEW_AUDIT_LOG, "audit_log", "Audit log", "history"),
    ("Watch", A.MANAGE_ALERTS, "alerts", "Alert rules", "notifications_active"),
    ("Manage", A.MANAGE_USERS, "people", "People", "group"),
    ("Manage", A.MANAGE_POLICIES, "policies", "Policies", "policy"),
    ("Manage", A.MANAGE_PROMPTS, "prompts", "Prompts", "edit_note"),
    ("Manage", A.MANAGE_MODELS, "models", "Models", "memory"),
    ("Manage", A.MANAGE_SCHEDULES, "schedules", "Schedules", "schedule"),
    ("Manage", A.MANAGE_USERS, "api_tokens", "API tokens", "key"),
    ("Manage", A.MANAGE_ALERTS, "notify_channels", "Channels & webhooks", "webhook"),
    ("You", A.MANAGE_MY_NOTIFICATIONS, "my_notifications", "My notifications", "notifications"),
]


def _signed_out_pages() -> list[StreamlitPage]:
    """The sign-in screen, also under every page's URL: a link such as
    ``/review_queue?item=12`` shows the sign-in screen and, signed in, opens that page with its
    query (instead of "Page not found")."""
    screen = st.Page(sign_in_screen, title="Sign in", icon=":material/login:", default=True)
    paths = {name for _, action, name, _, _ in PAGES if action is not Action.VIEW_HOME}
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
    menu: dict[str, list[StreamlitPage]] = {}
    for section, action, name, title, icon in PAGES:
        if auth.can_do(actor=user.actor, action=action):
            page = st.Page(
                f"pages/{name}.py",
                title=title,
                icon=f":material/{icon}:",
                default=(action is Action.VIEW_HOME),
            )
            menu.setdefault(section, []).append(page)
    if auth.is_platform_admin(actor=user.actor):
        workspaces = st.Page("pages/workspaces.py", title="Workspaces", icon=":material/domain:")
        menu.setdefault("Manage", []).append(workspaces)
    if user.method == "password":
        account = st.Page("pages/account.py", title="My account", icon=":material/person:")
        menu.setdefault("You", []).append(account)
    with st.sidebar:
        st.markdown(
            f"**{plain(user.display_name)}**  \n{plain(user.tenant_name)} · {user.actor.role.value}"
        )
        if st.button("Sign out", icon=":material/logout:"):
            session.sign_out()
            st.rerun()
    st.navigation(menu, expanded=True).run()


if __name__ == "__main__":
    main()
else:
    asgi.configure_streamlit()
    app = st.App(
        __file__, routes=asgi.routes(), middleware=asgi.middleware(), secrets=asgi.secrets()
    )
