"""The labelled scenario suite: the culprit change ranks first in most incidents, top 3 in all."""

from __future__ import annotations

import random
from datetime import timedelta

from domain.base import utcnow
from domain.enums import Role, Severity
from services.investigations import correlation, dependencies, paths
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.tenants import create_tenant_with_users
from tests.integration.culprit_scenarios import SCENARIOS, Scenario, noise
from tests.integration.event_factory import add_events, event

FIRST_AT_LEAST = 0.80


def _run(sc: Scenario, n: int) -> tuple[int | None, list[str]]:
    """Load one scenario into its own tenant; the culprit's rank among the suggested changes."""
    tenant = create_tenant_with_users(slug=f"s{n}", name=f"Scenario {n}", email_domain=f"s{n}.test")
    editor = tenant.actor(Role.REVIEWER)
    for service, deps in sc.deps.items():
        dependencies.set_for(actor=editor, service=service, depends_on=deps)
    if sc.paths:
        paths.set_map(
            actor=editor, entries=[paths.ServicePath(prefix=p, service=s) for p, s in sc.paths]
        )
    detected = (utcnow() - timedelta(hours=2)).replace(microsecond=0)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title=sc.name,
            severity=Severity.HIGH,
            service=sc.service,
            component=sc.component,
            detected_at=detected,
        ),
    )
    rows = [*sc.story, *noise(sc, random.Random(n))]
    ids = add_events(
        tenant.tenant.id,
        [
            event(source, kind, detected + timedelta(minutes=at), svc, label, severity, **data)
            for label, source, kind, at, svc, severity, data in rows
        ],
    )
    label_of = {i: row[0] for i, row in zip(ids, rows, strict=True)}
    ranked = correlation.board(actor=editor, investigation_id=inv.id).changes
    labels = [label_of[s.event.id] for s in ranked]
    rank = next((i for i, label in enumerate(labels, 1) if label in sc.culprit), None)
    return rank, labels


def test_the_culprit_change_ranks_first_in_most_scenarios_and_top_three_in_all(
    db_url: str,
) -> None:
    assert len(SCENARIOS) >= 15
    ranks: dict[str, int | None] = {}
    for n, sc in enumerate(SCENARIOS):
        rank, labels = _run(sc, n)
        ranks[sc.name] = rank
        print(f"{rank or '-':>2}  {sc.name}: {', '.join(labels[:4])}")
    first = sum(r == 1 for r in ranks.values()) / len(ranks)
    top3 = sum(r is not None and r <= 3 for r in ranks.values()) / len(ranks)
    print(f"culprit first in {first:.0%}, in the top 3 in {top3:.0%} of {len(ranks)} scenarios")
    assert first >= FIRST_AT_LEAST, ranks
    assert top3 == 1.0, ranks
