"""OpenID Connect sign-in: the identity Streamlit's st.login brought back (the ID token's claims)
maps to one active user row, by (issuer, subject) first, then by verified email.

Tenant and role come from that row. Only what an admin configured is taken from the claims: a
role claim (REVO_OIDC_ROLE_CLAIM, optionally through REVO_OIDC_ROLE_MAP) and the tenant of a new
identity (REVO_OIDC_TENANT_CLAIM or REVO_OIDC_TENANT_DOMAINS). An unknown identity is refused,
or provisioned just in time when its tenant allows sign-up (tenant setting ``jit_signup``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select

from domain.base import utcnow
from domain.enums import Role
from domain.models import Tenant, User
from services.config import Settings, get_settings
from services.errors import PermissionDenied
from services.identity import sessions
from services.identity.model import audit_as, signed_in
from services.identity.sign_in import MAX_EMAIL, SignInResult, require_mode
from services.uow import UnitOfWork

log = logging.getLogger(__name__)

# When several claimed groups map to roles, the most capable one wins.
ROLE_PRECEDENCE = (Role.ADMIN, Role.REVIEWER, Role.FINANCE, Role.SALES, Role.SDR, Role.VIEWER)
NOT_LINKED = (
    "Your single sign-on identity ({who}) is not linked to an active user of Revo Console. "
    "Ask an admin of your workspace to add you."
)
DEACTIVATED = "Your account is deactivated. Ask an admin of your workspace to reactivate it."
MAX_CLAIM = 500
MAX_GROUPS = 200


class OidcIdentity(BaseModel):
    """The parts of an ID token the console uses, checked and trimmed."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    groups: list[str]
    tenant_hint: str | None
    issued_at: datetime | None


def _text(value: object, limit: int = MAX_CLAIM) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value if 0 < len(value) <= limit else None


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [t for t in (_text(i, 200) for i in items[:MAX_GROUPS]) if t]


def parse_pairs(spec: str) -> dict[str, str]:
    """``"a=b, c=d"`` as {"a": "b", "c": "d"} (keys lower-cased); malformed parts are ignored."""
    pairs = (part.split("=", 1) for part in spec.split(",") if "=" in part)
    return {k.strip().lower(): v.strip() for k, v in pairs if k.strip() and v.strip()}


def identity_from_claims(claims: Mapping[str, Any], settings: Settings) -> OidcIdentity:
    """The identity in the claims, or PermissionDenied when they lack an issuer or subject."""
    issuer, subject = _text(claims.get("iss")), _text(claims.get("sub"), 255)
    if issuer is None or subject is None:
        raise PermissionDenied("The identity provider sent no usable identity (issuer, subject).")
    email = _text(claims.get("email"), MAX_EMAIL)
    verified = claims.get("email_verified") in (True, "true", "True")
    iat = claims.get("iat")
    issued = (
        datetime.fromtimestamp(iat, UTC)
        if isinstance(iat, int | float) and not isinstance(iat, bool) and 0 < iat < 2**33
        else None
    )
    role_claim, tenant_claim = settings.oidc_role_claim, settings.oidc_tenant_claim
    return OidcIdentity(
        issuer=issuer,
        subject=subject,
        email=email.lower() if email and "@" in email else None,
        email_verified=verified,
        name=_text(claims.get("name"), 200) or "",
        groups=_strings(claims.get(role_claim)) if role_claim else [],
        tenant_hint=_text(claims.get(tenant_claim), 64) if tenant_claim else None,
        issued_at=issued,
    )


def mapped_role(identity: OidcIdentity, settings: Settings) -> Role | None:
    """The role the configured claim gives, or None (no mapping configured, or no match)."""
    if not settings.oidc_role_claim:
        return None
    table = parse_pairs(settings.oidc_role_map)
    found: set[Role] = set()
    for group in identity.groups:
        name = table.get(group.lower(), "") if table else group.lower()
        if name in Role._value2member_map_:
            found.add(Role(name))
    return next((r for r in ROLE_PRECEDENCE if r in found), None)


def mapped_tenant_slug(identity: OidcIdentity, settings: Settings) -> str | None:
    """The workspace a new identity belongs to, by the tenant claim or its verified email domain."""
    if identity.tenant_hint:
        return identity.tenant_hint.lower()
    domains = parse_pairs(settings.oidc_tenant_domains)
    if identity.email and identity.email_verified and domains:
        return domains.get(identity.email.rpartition("@")[2])
    return None


def _by_subject(uow: UnitOfWork, identity: OidcIdentity) -> User | None:
    return uow.session.scalar(
        select(User).where(
            User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
        )
    )


def _by_email(uow: UnitOfWork, identity: OidcIdentity, slug: str | None) -> list[User]:
    if not identity.email or not identity.email_verified:
        return []  # an unverified email proves nothing
    query = select(User).where(func.lower(User.email) == identity.email).order_by(User.id)
    if slug:
        query = query.join(Tenant, Tenant.id == User.tenant_id).where(Tenant.slug == slug)
    return list(uow.session.scalars(query).all())


def _provision(
    uow: UnitOfWork, identity: OidcIdentity, slug: str | None, role: Role | None
) -> User:
    tenant = uow.session.scalar(select(Tenant).where(Tenant.slug == slug)) if slug else None
    allowed = tenant is not None and bool((tenant.settings or {}).get("jit_signup"))
    if tenant is None or not allowed or not identity.email or not identity.email_verified:
        log.info(
            "oidc identity refused",
            extra={"tenant": slug, "jit": allowed, "verified": identity.email_verified},
        )
        raise PermissionDenied(NOT_LINKED.format(who=identity.email or identity.subject))
    user = User(
        tenant_id=tenant.id,
        email=identity.email,
        display_name=identity.name or identity.email.split("@")[0],
        role=role or Role.VIEWER,
        is_active=True,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
    )
    uow.session.add(user)
    uow.session.flush()
    audit_as(
        uow,
        user,
        action="user.provisioned",
        after={"email": user.email, "role": user.role.value, "issuer": identity.issuer},
    )
    return user


def _find_or_provision(uow: UnitOfWork, identity: OidcIdentity, settings: Settings) -> User:
    user = _by_subject(uow, identity)
    if user is not None:
        return user
    slug = mapped_tenant_slug(identity, settings)
    matches = _by_email(uow, identity, slug)
    if len(matches) > 1:
        raise PermissionDenied(
            f"{identity.email} has accounts in several workspaces; ask an admin to set up "
            "REVO_OIDC_TENANT_CLAIM or REVO_OIDC_TENANT_DOMAINS so the console knows which."
        )
    if not matches:
        return _provision(uow, identity, slug, mapped_role(identity, settings))
    user = matches[0]
    if user.oidc_subject is not None:
        # The row already belongs to another identity: an email alone must not take it over.
        raise PermissionDenied(NOT_LINKED.format(who=identity.email))
    if user.is_active:
        user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
        audit_as(uow, user, action="auth.identity_linked", after={"issuer": identity.issuer})
    return user


def oidc_sign_in(*, claims: Mapping[str, Any]) -> SignInResult:
    """Sign in the identity an OpenID Connect provider vouched for (oidc mode only)."""
    require_mode("oidc")
    settings = get_settings()
    identity = identity_from_claims(claims, settings)
    now = utcnow()
    if identity.issued_at is not None and (
        (now - identity.issued_at).total_seconds() > settings.session_absolute_hours * 3600
    ):
        raise PermissionDenied("Your single sign-on has expired. Sign in again.")
    with UnitOfWork(None) as uow:
        user = _find_or_provision(uow, identity, settings)
        if not user.is_active:
            audit_as(uow, user, action="auth.sign_in_failed", after={"reason": "deactivated"})
            uow.commit()
            raise PermissionDenied(DEACTIVATED)
        role = mapped_role(identity, settings)
        if role is not None and role is not user.role:
            audit_as(
                uow,
                user,
                action="user.role_changed",
                after={"role": role.value, "from": user.role.value, "by": "identity provider"},
            )
            user.role = role
        tenant = uow.session.get(Tenant, user.tenant_id)
        assert tenant is not None  # a user row always has its tenant (foreign key)
        user.record_sign_in(now=now)
        token, code = sessions.open_session(uow, user=user, method="oidc", now=now)
        audit_as(uow, user, action="auth.signed_in", after={"method": "oidc"})
        uow.commit()
        return SignInResult(user=signed_in(user, tenant, "oidc"), token=token, handoff_code=code)


def provider_settings() -> dict[str, Any]:
    """Streamlit's ``[auth]`` section for st.login, from the REVO_OIDC_* settings ({} when off)."""
    settings = get_settings()
    if "oidc" not in settings.auth_modes:
        return {}
    assert settings.oidc_client_secret is not None and settings.oidc_cookie_secret is not None
    return {
        "redirect_uri": settings.oidc_redirect_uri,
        "cookie_secret": settings.oidc_cookie_secret.get_secret_value(),
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret.get_secret_value(),
        "server_metadata_url": settings.oidc_metadata_url,
        "client_kwargs": {"scope": settings.oidc_scopes},
    }
