"""Prompt versions: seeded from the repository's files, new versions, activation as rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.enums import Role
from domain.models import AuditEntry, Prompt
from services import db, prompts
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.tenants import TenantWithUsers


def test_first_use_seeds_every_repository_prompt_once_per_tenant(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
) -> None:
    north, south = (t.actor(Role.ADMIN) for t in two_tenants)
    keys = {f.key for f in prompts.repo_prompts()}
    assert {"sdr.outreach", "sales.proposal", "finance.dunning"} <= keys
    first = prompts.list_prompts(actor=north)
    again = prompts.list_prompts(actor=north)
    assert [p.id for p in first] == [p.id for p in again]
    assert {p.key for p in first if p.is_active} == keys
    assert {p.key for p in prompts.list_prompts(actor=south)} == keys
    with db.session_factory()() as session:
        assert len(session.scalars(select(Prompt)).all()) == 2 * len(keys)


def test_activating_an_older_version_rolls_back_and_is_audited(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    v1 = prompts.list_prompts(actor=admin, key="sdr.outreach")[0]
    template = v1.template.replace("briefly", "very briefly")
    v2 = prompts.create_version(
        actor=admin, key="sdr.outreach", template=template, parameters={"temperature": 0.1}
    )
    assert (v2.version, v2.is_active) == (2, False) and v2.hash != v1.hash
    prompts.activate(actor=admin, prompt_id=v2.id)
    active = [p for p in prompts.list_prompts(actor=admin, key="sdr.outreach") if p.is_active]
    assert [p.version for p in active] == [2]
    prompts.activate(actor=admin, prompt_id=v1.id)
    active = [p for p in prompts.list_prompts(actor=admin, key="sdr.outreach") if p.is_active]
    assert [p.version for p in active] == [1]
    with db.session_factory()() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "prompt")
        ).all()
    assert actions == ["prompt.version_created", "prompt.activated", "prompt.activated"]


def test_other_tenants_prompt_cannot_be_activated(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
) -> None:
    north, south = (t.actor(Role.ADMIN) for t in two_tenants)
    theirs = prompts.list_prompts(actor=south)[0]
    prompts.list_prompts(actor=north)
    with pytest.raises(NotFound):
        prompts.activate(actor=north, prompt_id=theirs.id)


def test_bad_templates_and_roles_are_refused(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    with pytest.raises(InvalidInput, match="user part"):
        prompts.create_version(actor=admin, key="sdr.outreach", template="x", parameters={})
    with pytest.raises(PermissionDenied):
        prompts.list_prompts(actor=two_tenants[0].actor(Role.SDR))
    broken = prompts.list_prompts(actor=admin, key="sdr.outreach")[0]
    with pytest.raises(InvalidInput, match="name"):
        broken.messages({})
