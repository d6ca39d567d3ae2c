"""Password sign-in: argon2id, no user enumeration, lockout with back-off, TOTP, sessions that
expire and end, and a deactivation or role change that applies on the next interaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import Role
from domain.models import AuthSession, User
from services import auth, people
from services.errors import InvalidInput, PermissionDenied
from services.identity.sign_in import GENERIC_FAILURE, NEED_CODE
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.sign_in_support import (
    NORTH_PASSWORD,
    SOUTH_PASSWORD,
    TOTP_KEY,
    actions,
    enrol_totp,
    give_password,
    shift_sessions,
    unlock_clock,
)

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def password_mode(auth_mode: Callable[..., None], two_tenants: Pair) -> Pair:
    auth_mode(
        "password", auth_max_failures="3", auth_lockout_base_s="60",
        totp_encryption_key=TOTP_KEY,
    )  # fmt: skip
    return two_tenants


def test_the_right_password_opens_a_session_that_a_reload_resumes(password_mode: Pair) -> None:
    north, _ = password_mode
    email = give_password(north, Role.REVIEWER, NORTH_PASSWORD)

    result = auth.password_sign_in(email=email.upper(), password=NORTH_PASSWORD)

    assert result.user.actor.tenant_id == north.tenant.id
    assert result.user.actor.role is Role.REVIEWER and result.user.method == "password"
    resumed = auth.resume_session(token=result.token)
    assert resumed is not None and resumed.actor == result.user.actor
    with UnitOfWork(None, readonly=True) as uow:
        stored = uow.session.scalars(select(AuthSession.token_hash)).all()
        hashed = uow.session.scalar(
            select(User.password_hash).where(User.id == north.users[Role.REVIEWER].id)
        )
    assert result.token not in stored  # only the token's hash is kept
    assert hashed is not None and hashed.startswith("$argon2id$")
    assert "auth.signed_in" in actions(north.tenant.id, north.users[Role.REVIEWER].id)


def test_a_wrong_password_and_an_unknown_email_fail_with_the_same_words(
    password_mode: Pair,
) -> None:
    north, _ = password_mode
    email = give_password(north, Role.REVIEWER, NORTH_PASSWORD)
    with pytest.raises(InvalidInput) as wrong:
        auth.password_sign_in(email=email, password="not-the-password-at-all")
    with pytest.raises(InvalidInput) as unknown:
        auth.password_sign_in(email="nobody@north.test", password="not-the-password-at-all")
    with pytest.raises(InvalidInput) as no_password:  # a user who never got a password
        auth.password_sign_in(email=north.users[Role.SALES].email, password=NORTH_PASSWORD)
    assert wrong.value.message == unknown.value.message == no_password.value.message
    assert wrong.value.message == GENERIC_FAILURE
    assert "auth.sign_in_failed" in actions(north.tenant.id, north.users[Role.REVIEWER].id)


def test_repeated_failures_lock_the_account_even_for_the_right_password_then_back_off(
    password_mode: Pair,
) -> None:
    north, _ = password_mode
    email = give_password(north, Role.REVIEWER, NORTH_PASSWORD)
    user_id = north.users[Role.REVIEWER].id
    for _ in range(3):
        with pytest.raises(InvalidInput):
            auth.password_sign_in(email=email, password="wrong-wrong-wrong")
    assert "auth.locked_out" in actions(north.tenant.id, user_id)

    with pytest.raises(InvalidInput, match="locked for a while"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD)
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None and user.locked_until is not None
        # The 4th failure (the right password while locked) doubled the first 60 s lock.
        assert user.locked_until - utcnow() > timedelta(seconds=100)

    unlock_clock(user_id)
    assert auth.password_sign_in(email=email, password=NORTH_PASSWORD).user.actor.user_id == user_id
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None and user.failed_sign_ins == 0 and user.last_sign_in_at is not None


def test_a_user_with_totp_needs_a_fresh_code_and_a_replayed_code_fails(
    password_mode: Pair,
) -> None:
    north, _ = password_mode
    email = give_password(north, Role.FINANCE, NORTH_PASSWORD)
    totp = enrol_totp(north, Role.FINANCE)

    with pytest.raises(InvalidInput) as missing:
        auth.password_sign_in(email=email, password=NORTH_PASSWORD)
    assert missing.value.message == NEED_CODE
    with pytest.raises(InvalidInput, match="Sign-in failed"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code="000000")

    code = totp.now()
    assert auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=code).user
    with pytest.raises(InvalidInput, match="Sign-in failed"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=code)


def test_deactivation_ends_the_session_and_refuses_the_next_sign_in(password_mode: Pair) -> None:
    north, _ = password_mode
    email = give_password(north, Role.SDR, NORTH_PASSWORD)
    token = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token

    people.set_active(actor=north.actor(Role.ADMIN), user_id=north.users[Role.SDR].id, active=False)

    assert auth.resume_session(token=token) is None
    with pytest.raises(InvalidInput, match="Sign-in failed"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD)
    assert "user.deactivated" in actions(north.tenant.id, north.users[Role.SDR].id)


def test_a_role_change_applies_on_the_next_interaction(password_mode: Pair) -> None:
    north, _ = password_mode
    email = give_password(north, Role.SDR, NORTH_PASSWORD)
    token = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token

    people.change_role(
        actor=north.actor(Role.ADMIN), user_id=north.users[Role.SDR].id, role=Role.VIEWER
    )

    resumed = auth.resume_session(token=token)
    assert resumed is not None and resumed.actor.role is Role.VIEWER
    assert "user.role_changed" in actions(north.tenant.id, north.users[Role.SDR].id)


def test_sign_out_ends_the_session_on_the_server(password_mode: Pair) -> None:
    north, _ = password_mode
    email = give_password(north, Role.SALES, NORTH_PASSWORD)
    token = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token
    auth.end_session(token=token)
    assert auth.resume_session(token=token) is None
    assert "auth.signed_out" in actions(north.tenant.id, north.users[Role.SALES].id)


def test_sessions_expire_when_idle_and_at_their_absolute_lifetime(password_mode: Pair) -> None:
    north, _ = password_mode
    user_id = north.users[Role.SALES].id
    email = give_password(north, Role.SALES, NORTH_PASSWORD)
    idle = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token
    shift_sessions(user_id, last_seen_at=utcnow() - timedelta(minutes=61))
    assert auth.resume_session(token=idle) is None
    assert "auth.session_expired" in actions(north.tenant.id, user_id)

    old = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token
    shift_sessions(user_id, expires_at=utcnow() - timedelta(seconds=1))
    assert auth.resume_session(token=old) is None


def test_the_handoff_code_works_once_and_replaces_the_pages_token(password_mode: Pair) -> None:
    north, _ = password_mode
    email = give_password(north, Role.SALES, NORTH_PASSWORD)
    result = auth.password_sign_in(email=email, password=NORTH_PASSWORD)

    cookie = auth.claim_handoff(code=result.handoff_code)

    assert cookie is not None and cookie != result.token
    assert auth.claim_handoff(code=result.handoff_code) is None
    assert auth.resume_session(token=result.token) is None
    resumed = auth.resume_session(token=cookie)
    assert resumed is not None and resumed.actor.user_id == north.users[Role.SALES].id
    assert auth.resume_session(token="forged" * 4) is None


def test_one_email_in_two_tenants_signs_in_to_the_tenant_whose_password_it_is(
    password_mode: Pair,
) -> None:
    north, south = password_mode
    shared = "pat@shared.test"
    admin_n, admin_s = north.actor(Role.ADMIN), south.actor(Role.ADMIN)
    for actor, password in ((admin_n, NORTH_PASSWORD), (admin_s, SOUTH_PASSWORD)):
        people.create_person(
            actor=actor,
            person_in=people.PersonCreate(email=shared, role=Role.VIEWER, password=password),
        )

    into_south = auth.password_sign_in(email=shared, password=SOUTH_PASSWORD)
    into_north = auth.password_sign_in(email=shared, password=NORTH_PASSWORD, workspace="north")

    assert into_south.user.actor.tenant_id == south.tenant.id
    assert into_north.user.actor.tenant_id == north.tenant.id
    with pytest.raises(InvalidInput, match="Sign-in failed"):
        auth.password_sign_in(email=shared, password=SOUTH_PASSWORD, workspace="north")
    seen = {p.email for p in people.list_people(actor=admin_n)}
    assert all(e.endswith("north.test") or e == shared for e in seen)


def test_password_sign_in_is_refused_when_the_mode_is_off_and_its_sessions_end(
    password_mode: Pair, auth_mode: Callable[..., None]
) -> None:
    north, _ = password_mode
    email = give_password(north, Role.SALES, NORTH_PASSWORD)
    token = auth.password_sign_in(email=email, password=NORTH_PASSWORD).token
    auth_mode("proxy")
    with pytest.raises(PermissionDenied, match="Password sign-in is turned off"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD)
    assert auth.resume_session(token=token) is None
