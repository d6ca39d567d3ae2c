"""Review cards that read like the artifact: a proposal, a counter-offer and its thread, a
contract, a notice, a hypothesis citing its events, an external agent's action.

Every string from the draft is untrusted: shown with st.text / st.code, in dataframe cells, or
through plain() where Streamlit only offers markdown.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
import streamlit as st

from pages.components.feedback import plain
from pages.components.tables import safe_dataframe
from services.review import ReviewItemDetail, ReviewKind

TEXT_FIELDS = ("terms_summary", "terms", "message", "rationale", "summary", "notes")


def decimal(value: Any) -> Decimal | None:
    """A finite number from a JSON number or a decimal string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: Any, currency: str | None) -> str:
    """38761.0 → '38,761.00 EUR'; anything that is not a number is shown as it came."""
    number = decimal(value)
    if number is None:
        return str(value)
    return f"{number:,.2f} {currency or ''}".strip()


def percent(value: Any) -> str:
    number = decimal(value)
    return f"{number.normalize():f} %" if number is not None else str(value)


def _line(label: str, text: str) -> None:
    st.markdown(f"**{plain(label)}** {plain(text)}")


def _prose(label: str, value: Any) -> None:
    if value in (None, ""):
        return
    st.caption(plain(label))
    st.text(str(value))


def _discount(payload: dict[str, Any], ctx: Any, offered: Decimal | None) -> None:
    pct = decimal(payload.get("discount_pct"))
    listed = decimal(payload.get("list_price")) or (
        Decimal(str(ctx.list_price)) if ctx.list_price is not None else None
    )
    parts = []
    if listed is not None:
        parts.append(f"list price {money(listed, ctx.currency)}")
        if offered is not None and listed > 0:
            parts.append(f"{(1 - offered / listed) * 100:.1f} % below list")
    if pct is not None:
        cap = ctx.discount_cap_pct
        over = cap is not None and pct > Decimal(str(cap))
        parts.append(
            f"discount {percent(pct)}"
            + (f" of a {percent(cap)} cap" if cap is not None else "")
            + (" — ABOVE THE CAP" if over else "")
        )
    if parts:
        st.caption(plain(" · ".join(parts)))


def _deal(detail: ReviewItemDetail, heading: str) -> None:
    payload, ctx = detail.item.payload, detail.context
    currency = str(payload.get("currency") or ctx.currency or "")
    amount = payload.get("price", payload.get("amount"))
    st.markdown(f"#### {heading}")
    if "round_no" in payload:
        st.caption(plain(f"Round {payload['round_no']}"))
    st.metric("Offered price", money(amount, currency))
    _discount(payload, ctx, decimal(amount))
    for name in TEXT_FIELDS:
        _prose(name.replace("_", " ").capitalize(), payload.get(name))
    if ctx.history:
        st.markdown("**Negotiation so far**")
        for row in ctx.history:
            with st.container(border=True):
                st.caption(
                    plain(
                        f"Round {row.get('round', '?')} · {row.get('party', '')} · "
                        f"{money(row.get('amount'), currency)} · discount {row.get('discount', '')}"
                    )
                )
                if row.get("terms"):
                    st.text(row["terms"])


def _contract(detail: ReviewItemDetail) -> None:
    payload, ctx = detail.item.payload, detail.context
    st.markdown("#### Contract")
    for label in ("Contract", "Value", "Status"):
        if label in ctx.facts:
            _line(f"{label}:", ctx.facts[label])
    for name in ("summary", "terms", "notes"):
        _prose(name.capitalize(), payload.get(name))


def _hypothesis(detail: ReviewItemDetail) -> None:
    payload, ctx = detail.item.payload, detail.context
    rank = payload.get("rank")
    st.markdown(
        "#### Root-cause hypothesis" + (f" · rank {int(rank)}" if isinstance(rank, int) else "")
    )
    _prose("Title", payload.get("title") or payload.get("hypothesis"))
    for name in ("explanation", "root_cause", "evidence", "remediation", "notes", "summary"):
        _prose(name.replace("_", " ").capitalize(), payload.get(name))
    cited = [e for e in payload.get("event_ids") or [] if isinstance(e, int) and e > 0]
    if cited and ctx.subject_url:
        links = " · ".join(f"[event #{e}]({ctx.subject_url}&event={e})" for e in cited)
        st.markdown(f"**Cited events** (open in the timeline): {links}")
    elif cited:
        st.caption("Cited events: " + ", ".join(f"#{e}" for e in cited))
    dropped = payload.get("dropped_hypotheses")
    if isinstance(dropped, int) and dropped:
        st.caption(f"{dropped} other hypotheses were dropped: they cited events outside this case.")


def _action(detail: ReviewItemDetail) -> None:
    payload = detail.item.payload
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    st.markdown(f"#### {plain(payload.get('title', 'Action'))}")
    _prose("Summary", payload.get("summary"))
    display = payload.get("display")
    if display == "email":
        for name in ("to", "subject"):
            _prose(name.capitalize(), data.get(name))
        st.code(str(data.get("body", "")), language=None, wrap_lines=True)
    elif display == "diff":
        st.code(str(data.get("diff", "")), language="diff")
    elif data:
        frame = pd.DataFrame(
            {"field": [str(k) for k in data], "value": [_cell(v) for v in data.values()]}
        )
        safe_dataframe(frame, hide_index=True, width="stretch")


def _cell(value: Any) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def document(detail: ReviewItemDetail) -> bool:
    """Render the item as its document; False for a kind shown elsewhere (the emails)."""
    kind = detail.item.kind
    if kind is ReviewKind.DEAL_PROPOSAL:
        _deal(detail, "Deal proposal")
    elif kind is ReviewKind.COUNTER_OFFER:
        _deal(detail, "Counter-offer")
    elif kind is ReviewKind.CONTRACT:
        _contract(detail)
    elif kind is ReviewKind.RCA_HYPOTHESIS:
        _hypothesis(detail)
    elif kind is ReviewKind.ACTION:
        _action(detail)
    else:
        return False
    return True
