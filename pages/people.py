"""People (admins): who has an account in this workspace, their role, and sign-in resets."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import SecretStr

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services import auth, forms, people
from services.auth import Role

user = current_user()
st.title("People")
st.caption(f"{user.tenant_name} · accounts, roles and sign-in")
password_mode = "password" in auth.enabled_modes()


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "strftime") else "never"


with service_errors():
    everyone = people.list_people(actor=user.actor)

if notice := st.session_state.pop("people_notice", None):
    st.success(plain(notice))

safe_dataframe(
    pd.DataFrame(
        [
            {
                "Email": p.email,
                "Name": p.display_name,
                "Role": p.role.value,
                "Active": p.is_active,
                "Last sign-in": _when(p.last_sign_in_at),
                "Password": p.has_password,
                "Authenticator": p.has_totp,
                "Locked until": _when(p.locked_until) if p.locked_until else "",
            }
            for p in everyone
        ]
    ),
    hide_index=True,
    width="stretch",
)

with (
    st.expander("Add a person", icon=":material/person_add:"),
    st.form("add_person", clear_on_submit=True),
):
    email = st.text_input("Email", max_chars=254)
    name = st.text_input("Name", max_chars=200)
    role = st.selectbox("Role", options=list(Role), index=list(Role).index(Role.VIEWER))
    first = st.text_input("First password", type="password", max_chars=256,
                          disabled=not password_mode,
                          help="They sign in with it; share it privately.")  # fmt: skip
    if st.form_submit_button("Add", type="primary"):
        with service_errors():
            person_in = forms.parse(
                people.PersonCreate, email=email, display_name=name, role=role,
                password=SecretStr(first) if password_mode and first else None,
            )  # fmt: skip
            made = people.create_person(actor=user.actor, person_in=person_in)
        st.session_state["people_notice"] = f"Added {made.email} as {made.role.value}."
        st.rerun()

st.subheader("Change an account")
labels = {p.id: f"{p.display_name} ({p.email})" for p in everyone}
chosen_id = st.selectbox(
    "Person", options=list(labels), format_func=labels.__getitem__, key="people_person"
)
chosen = next((p for p in everyone if p.id == chosen_id), None)
if chosen is not None:
    left, right = st.columns(2)
    with left:
        new_role = st.selectbox("Role", options=list(Role), index=list(Role).index(chosen.role),
                                key=f"role_{chosen.id}")  # fmt: skip
        if st.button("Change role", disabled=new_role is chosen.role):
            with service_errors():
                people.change_role(actor=user.actor, user_id=chosen.id, role=new_role)
            st.rerun()
        label = "Reactivate" if not chosen.is_active else "Deactivate"
        if st.button(label, type="secondary"):
            with service_errors():
                people.set_active(actor=user.actor, user_id=chosen.id, active=not chosen.is_active)
            st.rerun()
    with right:
        if password_mode:
            with st.form(f"reset_{chosen.id}", clear_on_submit=True):
                new_password = st.text_input("New password", type="password", max_chars=256)
                if st.form_submit_button("Reset password"):
                    with service_errors():
                        people.reset_password(
                            actor=user.actor, user_id=chosen.id,
                            new_password=SecretStr(new_password),
                        )  # fmt: skip
                    st.session_state["people_notice"] = (
                        f"Reset the password of {chosen.email}; their sessions were ended."
                    )
                    st.rerun()
        if chosen.has_totp and st.button("Remove authenticator"):
            with service_errors():
                people.reset_totp(actor=user.actor, user_id=chosen.id)
            st.rerun()
