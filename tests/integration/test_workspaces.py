"""Platform admins (REVO_PLATFORM_ADMINS) open workspaces with a first admin; no one else can."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from domain.enums import Role
from domain.models import AuditEntry, User
from services import people, workspaces
from services.errors import Conflict, InvalidInput, PermissionDenied
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def platform_admin(settings: Callable[..., None]) -> None:
    settings(platform_admins=" Admin@North.test , ops@example.test")


def _first_admin(email: str = "boss@initech.test") -> people.PersonCreate:
    return people.PersonCreate(email=email, display_name="Bill", password=SecretStr("x" * 4))


@pytest.mark.usefixtures("platform_admin")
def test_a_platform_admin_opens_a_workspace_with_its_first_admin(two_tenants: Pair) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    assert workspaces.is_platform_admin(actor=admin)
    assert not workspaces.is_platform_admin(actor=south.actor(Role.ADMIN))
    assert not workspaces.is_platform_admin(actor=north.actor(Role.REVIEWER))

    made = workspaces.create_workspace(
        actor=admin,
        slug=" Initech ",
        name="Initech",
        first_admin=people.PersonCreate(email="Boss@Initech.test", display_name="Bill"),
        jit_signup=True,
    )
    assert made.slug == "initech"
    listed = {w.slug: w for w in workspaces.list_workspaces(actor=admin)}
    assert listed["initech"].users == 1 and listed["initech"].jit_signup
    assert listed["north"].users == 6
    with UnitOfWork(None, readonly=True) as uow:
        boss = uow.session.scalar(select(User).where(User.tenant_id == made.id))
        assert boss is not None and (boss.email, boss.role) == ("boss@initech.test", Role.ADMIN)
        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.tenant_id == made.id)
        ).all()
    assert sorted(actions) == ["tenant.created", "user.created"]

    with pytest.raises(Conflict, match="already a workspace 'initech'"):
        workspaces.create_workspace(
            actor=admin, slug="initech", name="Again", first_admin=_first_admin()
        )
    with pytest.raises(InvalidInput, match="slug"):
        workspaces.create_workspace(actor=admin, slug="a b", name="X", first_admin=_first_admin())
    with pytest.raises(InvalidInput):  # the password policy: nothing is written
        workspaces.create_workspace(
            actor=admin, slug="weak", name="Weak", first_admin=_first_admin()
        )
    assert "weak" not in {w.slug for w in workspaces.list_workspaces(actor=admin)}


def test_without_the_setting_nobody_manages_workspaces(two_tenants: Pair) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    assert not workspaces.is_platform_admin(actor=admin)
    with pytest.raises(PermissionDenied, match="platform admin"):
        workspaces.list_workspaces(actor=admin)
    with pytest.raises(PermissionDenied):
        workspaces.create_workspace(actor=admin, slug="x1", name="X", first_admin=_first_admin())
