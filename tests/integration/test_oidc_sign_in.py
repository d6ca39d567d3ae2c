"""OpenID Connect sign-in at the service: an identity (the claims st.login brought back) maps to one
active user by issuer and subject or verified email; configured claims set role and tenant; an
unknown identity is refused or provisioned just in time; a deactivated user is refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from domain.enums import Role
from domain.models import User
from services import auth, people, tenants
from services.config import Settings
from services.errors import PermissionDenied
from services.identity.oidc import DEACTIVATED
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.sign_in_support import actions
from tests.support.oidc import ISSUER, OIDC

Pair = tuple[TenantWithUsers, TenantWithUsers]


def claims(sub: str, email: str, *, verified: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "iss": ISSUER, "sub": sub, "email": email, "email_verified": verified,
        "name": "Ada Lovelace", "iat": int(time.time()), "is_logged_in": True, **extra,
    }  # fmt: skip


@pytest.fixture
def oidc(auth_mode: Callable[..., None], two_tenants: Pair) -> Callable[..., Pair]:
    def _on(**settings: str) -> Pair:
        auth_mode("oidc", **OIDC, **settings)
        return two_tenants

    return _on


def _row(user_id: int) -> User:
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.get(User, user_id)
        assert user is not None
        uow.session.expunge(user)
        return user


def test_a_known_verified_email_links_the_identity_and_later_signs_in_by_subject(
    oidc: Callable[..., Pair],
) -> None:
    north, south = oidc()
    reviewer = north.users[Role.REVIEWER]

    first = auth.oidc_sign_in(claims=claims("sub-1", reviewer.email.upper()))

    assert first.user.actor.user_id == reviewer.id and first.user.method == "oidc"
    assert first.user.actor.tenant_id == north.tenant.id and first.user.actor.role is Role.REVIEWER
    assert (_row(reviewer.id).oidc_issuer, _row(reviewer.id).oidc_subject) == (ISSUER, "sub-1")
    # The email changed at the provider: the subject still finds the same row.
    again = auth.oidc_sign_in(claims=claims("sub-1", "renamed@elsewhere.test"))
    assert again.user.actor.user_id == reviewer.id
    resumed = auth.resume_session(token=again.token)
    assert resumed is not None and resumed.oidc_subject == "sub-1"
    assert actions(north.tenant.id, reviewer.id)[-3:] == [
        "auth.identity_linked", "auth.signed_in", "auth.signed_in"
    ]  # fmt: skip
    assert not any(a.startswith("auth.") for a in actions(south.tenant.id))


def test_an_unverified_email_or_an_unknown_identity_is_refused_without_a_user_row(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc()
    with pytest.raises(PermissionDenied, match="not linked"):
        auth.oidc_sign_in(claims=claims("sub-2", north.users[Role.ADMIN].email, verified=False))
    with pytest.raises(PermissionDenied, match="not linked"):
        auth.oidc_sign_in(claims=claims("sub-3", "stranger@north.test"))
    with pytest.raises(PermissionDenied, match="no usable identity"):
        auth.oidc_sign_in(claims={"iss": ISSUER, "sub": "\x00", "email": "a@north.test"})
    with pytest.raises(PermissionDenied, match="no usable identity"):
        auth.oidc_sign_in(claims={"iss": ["nested"], "sub": {"x": 1}})
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.scalar(select(User).where(User.oidc_subject.is_not(None))) is None


def test_an_email_already_linked_to_another_subject_is_not_taken_over(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc()
    email = north.users[Role.FINANCE].email
    auth.oidc_sign_in(claims=claims("sub-owner", email))
    with pytest.raises(PermissionDenied, match="not linked"):
        auth.oidc_sign_in(claims=claims("sub-intruder", email))


def test_a_deactivated_user_is_refused_and_the_refusal_is_audited(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc()
    sales = north.users[Role.SALES]
    auth.oidc_sign_in(claims=claims("sub-s", sales.email))
    people.set_active(actor=north.actor(Role.ADMIN), user_id=sales.id, active=False)

    with pytest.raises(PermissionDenied) as refused:
        auth.oidc_sign_in(claims=claims("sub-s", sales.email))

    assert refused.value.message == DEACTIVATED
    assert actions(north.tenant.id, sales.id)[-1] == "auth.sign_in_failed"


def test_a_group_claim_mapped_to_roles_sets_the_role_and_the_change_is_audited(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc(oidc_role_claim="groups", oidc_role_map="revo-admins=admin,revo-ops=reviewer")
    viewer = north.users[Role.VIEWER]

    result = auth.oidc_sign_in(
        claims=claims("sub-v", viewer.email, groups=["staff", "revo-ops", "revo-admins"])
    )
    assert result.user.actor.role is Role.ADMIN  # the most capable mapped group wins
    assert _row(viewer.id).role is Role.ADMIN
    assert "user.role_changed" in actions(north.tenant.id, viewer.id)

    unmapped = auth.oidc_sign_in(claims=claims("sub-v", viewer.email, groups=["admin"]))
    assert unmapped.user.actor.role is Role.ADMIN  # "admin" is not in the map: the row decides


def test_without_a_map_a_claim_value_naming_a_role_is_obeyed(oidc: Callable[..., Pair]) -> None:
    north, _ = oidc(oidc_role_claim="revo_role")
    sdr = north.users[Role.SDR]
    result = auth.oidc_sign_in(claims=claims("sub-r", sdr.email, revo_role="Finance"))
    assert result.user.actor.role is Role.FINANCE


def test_a_new_identity_is_provisioned_as_viewer_only_where_the_tenant_allows_sign_up(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc(oidc_tenant_domains="west.test=west,north.test=north")
    west = tenants.create_tenant(slug="west", name="West GmbH", jit_signup=True)

    new = auth.oidc_sign_in(claims=claims("sub-new", "newcomer@west.test"))
    assert new.user.actor.tenant_id == west.id and new.user.actor.role is Role.VIEWER
    assert actions(west.id, new.user.actor.user_id)[:2] == ["user.provisioned", "auth.signed_in"]
    with pytest.raises(PermissionDenied, match="not linked"):  # north has no sign-up
        auth.oidc_sign_in(claims=claims("sub-n", "newcomer@north.test"))
    with pytest.raises(PermissionDenied, match="not linked"):  # the domain proves nothing
        auth.oidc_sign_in(claims=claims("sub-u", "other@west.test", verified=False))
    assert north.tenant.id != west.id


def test_a_tenant_claim_picks_the_workspace_for_an_email_in_two_of_them(
    oidc: Callable[..., Pair],
) -> None:
    north, south = oidc(oidc_tenant_claim="org")
    email = "shared@both.test"
    for tenant in (north, south):
        people.create_person(
            actor=tenant.actor(Role.ADMIN),
            person_in=people.PersonCreate(email=email, role=Role.SALES),
        )
    with pytest.raises(PermissionDenied, match="several workspaces"):
        auth.oidc_sign_in(claims=claims("sub-x", email))
    result = auth.oidc_sign_in(claims=claims("sub-x", email, org="south"))
    assert result.user.actor.tenant_id == south.tenant.id
    assert result.user.tenant_name == "South plc"


def test_an_identity_older_than_the_absolute_session_lifetime_is_refused(
    oidc: Callable[..., Pair],
) -> None:
    north, _ = oidc(session_absolute_hours="1")
    stale = claims("sub-o", north.users[Role.ADMIN].email, iat=int(time.time()) - 7200)
    with pytest.raises(PermissionDenied, match="expired"):
        auth.oidc_sign_in(claims=stale)


def test_oidc_sign_in_is_refused_when_the_mode_is_off(auth_mode: Callable[..., None]) -> None:
    auth_mode("password")
    with pytest.raises(PermissionDenied, match="turned off"):
        auth.oidc_sign_in(claims=claims("sub", "a@north.test"))
    assert auth.oidc_provider_settings() == {}


def test_oidc_mode_names_each_missing_setting_and_builds_streamlits_auth_section(
    auth_mode: Callable[..., None],
) -> None:
    with pytest.raises(ValidationError, match=r"REVO_OIDC_CLIENT_SECRET.*REVO_OIDC_COOKIE_SECRET"):
        Settings(auth_mode="oidc", oidc_client_id="x", oidc_metadata_url="http://i", oidc_redirect_uri="http://c/oauth2callback")  # fmt: skip  # noqa: E501
    with pytest.raises(ValidationError, match="ending in /oauth2callback"):
        Settings(auth_mode="oidc", **{**OIDC, "oidc_redirect_uri": "http://c/"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(auth_mode="oidc", env="production", secret_key="k" * 40, **{**OIDC, "oidc_cookie_secret": "short"})  # type: ignore[arg-type]  # fmt: skip  # noqa: E501
    auth_mode("oidc,password", **OIDC)
    section = auth.oidc_provider_settings()
    assert section["client_secret"] == "client-secret" and section["cookie_secret"] == "c" * 40
    assert section["redirect_uri"] == OIDC["oidc_redirect_uri"]
    assert section["client_kwargs"] == {"scope": "openid email profile"}
