"""Bulk rows for the review queue: every kind, over 90 days; what is still pending is recent.

A pending draft past its expiry is written as expired, as the worker's sweep
(``expire_overdue``) would have left it: with 7-day expiry over a 90-day span, 92 % of the
pending rows would otherwise sit past expiry, and "Next item" walked all of them first.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from domain.enums import ReasonCode, Role
from services.seed.bulk_plan import DAY, BulkPlan, Row, Ts, expand, pool
from services.seed.bulk_runs import run_near
from services.seed.vocab import AGENT_OF_KIND, SLA_HOURS, words

REVIEW_STATUSES = (
    ("pending", 60),
    ("approved", 5),
    ("executed", 20),
    ("failed", 2),
    ("rejected", 9),
    ("expired", 4),
)
EXPIRY_S = 7 * DAY  # the review policy's default expiry (expiry_hours)


REVIEW_COLUMNS = words(
    "tenant_id kind status subject_type subject_id subject_label payload original_payload "
    "search_text amount confidence risk priority due_at expires_at run_id drafted_by "
    "triggered_by_id decided_by_id decided_at reason_code comment executed_at "
    "execution_attempts updated_at created_at row_version"
)


@dataclass(frozen=True)
class _Draft:
    kind: str
    agent: str  # the agent that drafts this kind
    subject_type: str
    subject_id: int
    label: str
    payload: str  # JSON
    search_text: str
    amount: float | None


def _drafts(rng: random.Random, per_kind: int = 64) -> list[_Draft]:
    out = []
    for n in range(per_kind):
        sid = rng.randrange(1, 50_000)
        amount = round(rng.lognormvariate(10.5, 0.8), 2)
        company = f"Customer {sid}"
        docs: dict[str, tuple[str, dict[str, Any], str, float | None]] = {
            "outreach_email": (
                "lead",
                {"to": f"lead{sid}@example.com", "subject": f"An idea for {company}"}
                | {"body": f"Hi,\n\nteams like yours cut picking errors by {n % 30 + 10}%."},
                f"lead{sid}@example.com an idea for {company}",
                None,
            ),
            "deal_proposal": (
                "deal",
                {"deal_id": sid, "amount": amount, "discount_pct": 10.0, "currency": "EUR"}
                | {"terms_summary": "2-year term, net-30, onboarding included."},
                "2-year term, net-30",
                amount,
            ),
            "counter_offer": (
                "deal",
                {"deal_id": sid, "amount": amount, "discount_pct": 12.0}
                | {"rationale": "Hold margin; offer net-45 instead of a deeper cut."},
                "hold margin",
                amount,
            ),
            "contract": (
                "contract",
                {"contract_id": sid, "summary": f"3-year agreement worth {amount:.2f} EUR."},
                "3-year agreement",
                amount,
            ),
            "dunning_notice": (
                "invoice",
                {"invoice_id": sid, "invoice_number": f"INV-B-{sid:06d}", "amount_due": amount}
                | {"days_overdue": n % 60 + 1, "level": n % 3 + 1, "to": f"ap{sid}@example.com"}
                | {"subject": f"Reminder: invoice INV-B-{sid:06d}", "body": "Please pay."},
                f"INV-B-{sid:06d} ap{sid}@example.com",
                amount,
            ),
            "rca_hypothesis": (
                "investigation",
                {"investigation_id": sid, "hypothesis": "Pool exhausted after config change."}
                | {"cited_event_ids": [sid, sid + 1], "confidence": 0.7},
                "pool exhausted after config change",
                None,
            ),
        }
        for kind, (subject_type, payload, key, money) in docs.items():
            label = f"{company} · {kind.replace('_', ' ')}"
            text = f"{label} {key}".lower()
            agent = AGENT_OF_KIND[kind].value
            doc = json.dumps(payload)
            out.append(_Draft(kind, agent, subject_type, sid, label, doc, text, money))
    return out


def review_rows(plan: BulkPlan, ts: Ts, start: int, stop: int, total: int) -> list[Row]:
    """Review items [start, stop) of total: every kind over 90 days, none pending past expiry."""
    rng, tid, runs = plan.rng, plan.tenant_id, plan.run_ids
    drafts = _drafts(random.Random(plan.batch))
    statuses = expand(REVIEW_STATUSES)
    reasons = [code.value for code in ReasonCode]
    decider = plan.users[Role.REVIEWER]
    confidences = pool(lambda: round(rng.betavariate(7, 2.2), 3))
    undecided = {"pending", "expired"}
    rand = rng.random
    rows = []
    for i in range(start, stop):
        d = drafts[int(rand() * len(drafts))]
        status = statuses[int(rand() * 100)]
        agent = d.agent
        created = plan.time_at(i, total)
        if status == "pending" and created + EXPIRY_S <= plan.now:
            status = "expired"  # the sweep would have expired it
        decided = None if status in undecided else created + 600 + rand() * 20_000
        decided_at = ts(decided) if decided else None
        rejected = status == "rejected"
        run_id = run_near(runs, i * len(runs) // total, agent) if runs else None
        confidence = confidences[int(rand() * 1024)]
        rows.append(
            (
                tid,
                d.kind,
                status,
                d.subject_type,
                d.subject_id,
                d.label,
                d.payload,
                d.payload,
                d.search_text,
                d.amount,
                confidence,
                "high" if confidence < 0.55 else ("medium" if confidence < 0.7 else "low"),
                i % 4,
                ts(created + SLA_HOURS[d.kind] * 3600),
                ts(created + EXPIRY_S),
                run_id,
                agent,
                None,
                decider if decided else None,
                decided_at,
                reasons[i % len(reasons)] if rejected else None,
                "Not needed any more." if rejected else None,
                ts(decided + 30) if decided and status == "executed" else None,
                1 if status in {"executed", "failed"} else 0,
                decided_at,
                ts(created),
                2 if decided else 1,
            )
        )
    return rows
