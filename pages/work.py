"""Work: the leads, deals and invoices, with the agent runs each role may start on them."""

from __future__ import annotations

import streamlit as st

from pages.components import run_buttons
from pages.components.feedback import service_errors
from pages.components.session import current_user
from services import work

user = current_user()
actor = user.actor
st.title("Work")
st.caption(
    "Start an agent on a lead, deal or invoice. You are the run's triggerer, so someone else "
    "decides its draft where four-eyes applies."
)

with service_errors():
    lists = work.list_work(actor=actor)
if not any(work.actions_for(actor=actor, subject_type=t) for t in ("lead", "deal", "invoice")):
    st.info("Your role starts no agent runs on leads, deals or invoices; this list is read-only.")

leads_tab, deals_tab, invoices_tab = st.tabs(["Leads", "Deals", "Invoices"])

with leads_tab:
    if not lists.leads:
        st.info("No leads yet.")
    else:
        st.dataframe(
            [
                {"id": x.id, "Name": x.name, "Company": x.company, "Email": x.email,
                 "Status": x.status, "Do not contact": x.do_not_contact}
                for x in lists.leads
            ],
            hide_index=True,
        )  # fmt: skip
        names = {x.id: f"#{x.id} {x.name} ({x.company})" for x in lists.leads}
        lead_id = st.selectbox("Lead", list(names), format_func=lambda i: names[i], key="w_lead")
        run_buttons.buttons(actor, "lead", lead_id)

with deals_tab:
    if not lists.deals:
        st.info("No deals yet.")
    else:
        st.dataframe(
            [
                {"id": x.id, "Name": x.name, "Amount": f"{x.amount:,.2f} {x.currency}",
                 "Stage": x.stage}
                for x in lists.deals
            ],
            hide_index=True,
        )  # fmt: skip
        names = {x.id: f"#{x.id} {x.name}" for x in lists.deals}
        deal_id = st.selectbox("Deal", list(names), format_func=lambda i: names[i], key="w_deal")
        run_buttons.buttons(actor, "deal", deal_id)

with invoices_tab:
    if not lists.invoices:
        st.info("No invoices yet.")
    else:
        st.dataframe(
            [
                {"id": x.id, "Number": x.number, "Customer": x.customer_name,
                 "Amount": f"{x.amount:,.2f} {x.currency}", "Due": x.due_date,
                 "Status": x.status, "Dunning level": x.dunning_level}
                for x in lists.invoices
            ],
            hide_index=True,
        )  # fmt: skip
        names = {x.id: f"#{x.id} {x.number} · {x.customer_name}" for x in lists.invoices}
        invoice_id = st.selectbox(
            "Invoice", list(names), format_func=lambda i: names[i], key="w_invoice"
        )
        run_buttons.buttons(actor, "invoice", invoice_id)

run_buttons.progress(actor)
