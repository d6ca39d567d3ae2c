"""People administration through services: permissions, tenant scope, the last admin."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from domain.enums import Role
from services import people
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from services.tenants import TenantWithUsers
from tests.integration.sign_in_support import actions

Pair = tuple[TenantWithUsers, TenantWithUsers]


def test_only_admins_manage_people(two_tenants: Pair) -> None:
    north, _ = two_tenants
    reviewer = north.actor(Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        people.list_people(actor=reviewer)
    with pytest.raises(PermissionDenied):
        people.change_role(actor=reviewer, user_id=north.users[Role.SDR].id, role=Role.ADMIN)


def test_an_admin_cannot_touch_another_workspaces_people(two_tenants: Pair) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    victim = south.users[Role.SALES].id
    with pytest.raises(NotFound):
        people.set_active(actor=admin, user_id=victim, active=False)
    with pytest.raises(NotFound):
        people.reset_password(actor=admin, user_id=victim, new_password=SecretStr("x" * 20))
    assert {p.email for p in people.list_people(actor=admin)} == {
        u.email for u in north.users.values()
    }


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    admin_id = north.users[Role.ADMIN].id
    with pytest.raises(InvalidTransition, match="last active admin"):
        people.set_active(actor=admin, user_id=admin_id, active=False)
    with pytest.raises(InvalidTransition, match="last active admin"):
        people.change_role(actor=admin, user_id=admin_id, role=Role.VIEWER)

    people.change_role(actor=admin, user_id=north.users[Role.REVIEWER].id, role=Role.ADMIN)
    demoted = people.change_role(actor=admin, user_id=admin_id, role=Role.VIEWER)
    assert demoted.role is Role.VIEWER
    assert actions(north.tenant.id, admin_id)[-1] == "user.role_changed"


def test_a_duplicate_email_and_a_weak_password_are_refused(two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    with pytest.raises(Conflict, match="already has an account"):
        people.create_person(
            actor=admin, person_in=people.PersonCreate(email=north.users[Role.SDR].email.upper())
        )
    with pytest.raises(InvalidInput, match="at least 12"):
        people.create_person(
            actor=admin,
            person_in=people.PersonCreate(email="x@north.test", password=SecretStr("short")),
        )
    assert "x@north.test" not in {p.email for p in people.list_people(actor=admin)}
