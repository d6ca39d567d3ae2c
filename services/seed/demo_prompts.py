"""Demo prompt templates: a few keys, two or three versions each, one active per key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.enums import Role
from domain.models import Prompt
from services.prompts import PromptFile, repo_prompts
from services.seed.context import DemoContext

# Per prompt key: (days ago the version went live, version). sales.proposal v3 was rolled back.
PROMPT_HISTORY: dict[str, list[tuple[float, int]]] = {
    "sdr.outreach": [(60, 1), (21, 2), (6, 3)],
    "sdr.qualify": [(60, 1), (14, 2)],
    "sales.proposal": [(60, 1), (25, 2), (9, 3), (4, 2)],
    "sales.contract_summary": [(60, 1), (18, 2)],
    "negotiation.counter": [(60, 1), (30, 2), (11, 3)],
    "finance.dunning": [(60, 1), (20, 2)],
    "investigator.rca": [(60, 1), (12, 2), (3, 3)],
}
TEMPLATES = {
    "sdr.outreach": "Write a first-touch email from {sender} at {company} to {lead_name} "
    "({lead_title}, {lead_company}) about {product}. Under 120 words, one clear ask.",
    "sdr.qualify": "Given the lead profile {lead_json}, score fit 0-1 for {company}'s ICP and "
    "list the top three reasons.",
    "sales.proposal": "Draft a proposal for deal {deal_name}: amount {amount} {currency}, "
    "discount at most {max_discount}%. Summarise terms in three sentences.",
    "sales.contract_summary": "Summarise contract {contract_number} for a reviewer: term, value, "
    "renewal, liability cap, anything non-standard.",
    "negotiation.counter": "The customer countered with {customer_offer}. Propose a counter "
    "within policy (floor {floor_amount}) and explain the rationale.",
    "finance.dunning": "Write dunning level {level} for invoice {invoice_number} "
    "({amount_due} {currency}, {days_overdue} days overdue) to {customer_name}. Firm, polite.",
    "investigator.rca": "Given the incident {title} and these events {events_json}, propose the "
    "most likely root cause, cite event ids, and give a confidence 0-1.",
}
VERSION_NOTES = {
    2: "\nPrefer concrete numbers over adjectives.",
    3: "\nReturn JSON matching the schema exactly; never invent prices or dates.",
}


def _repo_prompt(key: str) -> PromptFile | None:
    return next((f for f in repo_prompts() if f.key == key), None)


def template(key: str, version: int) -> str:
    """The template text of a prompt version. Keys the agents use start from the repository's
    prompt file, so a demo tenant's active versions are ones the agents can fill in."""
    shipped = _repo_prompt(key)
    base = shipped.template if shipped else TEMPLATES[key]
    return base + "".join(VERSION_NOTES.get(v, "") for v in range(2, version + 1))


def parameters(key: str, version: int) -> dict[str, Any]:
    """The model parameters of a prompt version."""
    shipped = _repo_prompt(key)
    base = shipped.parameters if shipped else {"temperature": 0.2, "max_tokens": 700}
    return {**base, "schema_version": version}


def seed_prompts(ctx: DemoContext) -> None:
    """Two or three versions per prompt key, the live one active."""
    rows = []
    for key, history in PROMPT_HISTORY.items():
        first_live: dict[int, float] = {}
        for days, version in history:
            first_live.setdefault(version, days)
        for version, days in first_live.items():
            rows.append(
                Prompt(
                    tenant_id=ctx.tenant_id,
                    key=key,
                    version=version,
                    template=template(key, version),
                    parameters=parameters(key, version),
                    is_active=version == history[-1][1],
                    created_by_id=ctx.user_id(Role.ADMIN),
                    created_at=ctx.now - timedelta(days=days),
                )
            )
    ctx.save(rows)


def live_version(key: str, at: datetime, now: datetime) -> int:
    age_days = (now - at).total_seconds() / 86400
    live = PROMPT_HISTORY[key][0][1]
    for days, version in PROMPT_HISTORY[key]:
        if age_days <= days:
            live = version
    return live
