"""People administration (admins of a tenant): accounts, roles, deactivation, password and TOTP
resets. The last active admin of a tenant can never be deactivated or demoted."""

from __future__ import annotations

from datetime import datetime

import pyotp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import func, select

from domain.base import utcnow
from domain.enums import Role
from domain.models import Tenant, User
from services import audit, db
from services.actor import Actor
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from services.identity import passwords, secret_box, sessions
from services.identity.sign_in import totp_step
from services.permissions import Action, require
from services.uow import UnitOfWork


class PersonRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    last_sign_in_at: datetime | None
    locked_until: datetime | None
    has_password: bool
    has_totp: bool


class PersonCreate(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(default="", max_length=200)
    role: Role = Role.VIEWER
    password: SecretStr | None = None

    @field_validator("email")
    @classmethod
    def _plausible_email(cls, value: str) -> str:
        value = value.strip().lower()
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or any(c.isspace() for c in value):
            raise ValueError("enter an email address such as name@example.com")
        return value


class TotpEnrollment(BaseModel):
    secret: str
    uri: str


def _read(user: User) -> PersonRead:
    return PersonRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        last_sign_in_at=user.last_sign_in_at,
        locked_until=user.locked_until,
        has_password=user.password_hash is not None,
        has_totp=user.totp_secret is not None,
    )


def _get(uow: UnitOfWork, user_id: int) -> User:
    user: User | None = uow.session.scalar(
        db.row_locked(select(User).where(User.id == user_id), uow.session)
    )
    if user is None:
        raise NotFound(f"There is no user #{user_id} in your workspace.")
    return user


def _guard_last_admin(uow: UnitOfWork, user: User, *, stays_admin: bool) -> None:
    if user.role is not Role.ADMIN or not user.is_active or stays_admin:
        return
    admins = select(User.id).where(
        User.tenant_id == user.tenant_id, User.role == Role.ADMIN, User.is_active.is_(True)
    )
    others = uow.session.scalars(db.row_locked(admins, uow.session)).all()
    if not [i for i in others if i != user.id]:
        raise InvalidTransition(
            f"{user.display_name or user.email} is the last active admin of this workspace. "
            "Make someone else an admin first."
        )


def list_people(*, actor: Actor) -> list[PersonRead]:
    """Everyone in the actor's workspace, admins first."""
    require(actor, Action.MANAGE_USERS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(select(User).order_by(User.role, func.lower(User.email))).all()
        return [_read(u) for u in rows]


def add_user(uow: UnitOfWork, *, tenant_id: int, person_in: PersonCreate) -> User:
    """Add a user row in the caller's unit of work (checks the password policy and duplicates)."""
    taken = uow.session.scalar(
        select(User.id).where(
            User.tenant_id == tenant_id, func.lower(User.email) == person_in.email
        )
    )
    if taken is not None:
        raise Conflict(f"{person_in.email} already has an account in this workspace.")
    password_hash = None
    if person_in.password is not None:
        secret = person_in.password.get_secret_value()
        passwords.require_acceptable(secret, email=person_in.email)
        password_hash = passwords.hash_password(secret)
    user = User(
        tenant_id=tenant_id,
        email=person_in.email,
        display_name=person_in.display_name.strip() or person_in.email.split("@")[0],
        role=person_in.role,
        is_active=True,
        password_hash=password_hash,
    )
    uow.session.add(user)
    uow.session.flush()
    return user


def create_person(*, actor: Actor, person_in: PersonCreate) -> PersonRead:
    """Create an account in the actor's workspace (with a first password in password mode)."""
    require(actor, Action.MANAGE_USERS)
    with UnitOfWork(actor) as uow:
        user = add_user(uow, tenant_id=actor.tenant_id, person_in=person_in)
        audit.record(
            uow, action="user.created", entity_type="user", entity_id=user.id,
            after={"email": user.email, "role": user.role.value,
                   "password": user.password_hash is not None},
        )  # fmt: skip
        uow.commit()
        return _read(user)


def set_active(*, actor: Actor, user_id: int, active: bool, reason: str = "") -> PersonRead:
    """Deactivate (ends their sessions at once) or reactivate an account."""
    require(actor, Action.MANAGE_USERS)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        user = _get(uow, user_id)
        if user.is_active == active:
            return _read(user)
        if not active:
            _guard_last_admin(uow, user, stays_admin=False)
            ended = sessions.end_all_for_user(uow, user_id=user.id, now=now, reason="deactivated")
        else:
            ended = 0
        user.is_active = active
        audit.record(
            uow, action="user.reactivated" if active else "user.deactivated",
            entity_type="user", entity_id=user.id,
            before={"is_active": not active}, after={"is_active": active, "sessions_ended": ended},
            reason=reason or None,
        )  # fmt: skip
        uow.commit()
        return _read(user)


def change_role(*, actor: Actor, user_id: int, role: Role) -> PersonRead:
    """Give an account another role; it applies on the person's next interaction."""
    require(actor, Action.MANAGE_USERS)
    with UnitOfWork(actor) as uow:
        user = _get(uow, user_id)
        if user.role is role:
            return _read(user)
        _guard_last_admin(uow, user, stays_admin=role is Role.ADMIN)
        before = user.role
        user.role = role
        audit.record(
            uow, action="user.role_changed", entity_type="user", entity_id=user.id,
            before={"role": before.value}, after={"role": role.value},
        )  # fmt: skip
        uow.commit()
        return _read(user)


def reset_password(*, actor: Actor, user_id: int, new_password: SecretStr) -> PersonRead:
    """Set a new password, lift any lockout and end the person's sessions."""
    require(actor, Action.MANAGE_USERS)
    secret = new_password.get_secret_value()
    now = utcnow()
    with UnitOfWork(actor) as uow:
        user = _get(uow, user_id)
        passwords.require_acceptable(secret, email=user.email)
        user.password_hash = passwords.hash_password(secret)
        user.failed_sign_ins = 0
        user.locked_until = None
        ended = sessions.end_all_for_user(uow, user_id=user.id, now=now, reason="password_reset")
        audit.record(
            uow, action="user.password_reset", entity_type="user", entity_id=user.id,
            after={"sessions_ended": ended},
        )  # fmt: skip
        uow.commit()
        return _read(user)


def reset_totp(*, actor: Actor, user_id: int) -> PersonRead:
    """Remove a person's authenticator (they sign in with the password alone until they enrol)."""
    require(actor, Action.MANAGE_USERS)
    with UnitOfWork(actor) as uow:
        user = _get(uow, user_id)
        had = user.totp_secret is not None
        user.totp_secret = None
        user.totp_last_step = None
        audit.record(
            uow, action="user.totp_reset", entity_type="user", entity_id=user.id,
            before={"totp": had}, after={"totp": False},
        )  # fmt: skip
        uow.commit()
        return _read(user)


def new_totp_enrollment(*, actor: Actor) -> TotpEnrollment:
    """A fresh TOTP secret for the actor's own account (not stored until confirmed)."""
    secret_box.require_key()  # refuse before the person scans a code that could not be stored
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=actor.label or str(actor.user_id), issuer_name="Revo Console"
    )
    return TotpEnrollment(secret=secret, uri=uri)


def confirm_totp(*, actor: Actor, secret: str, code: str) -> PersonRead:
    """Turn on TOTP for the actor's own account once a code from the new secret checks out."""
    now = utcnow()
    step = totp_step(secret, code, now) if len(secret) <= 64 else None
    if step is None:
        raise InvalidInput(
            "That code does not match; check the authenticator app's clock and retry."
        )
    with UnitOfWork(actor) as uow:
        user = _get(uow, actor.user_id)
        user.totp_secret = secret_box.seal_totp(secret)
        user.totp_last_step = step
        audit.record(
            uow,
            action="user.totp_enrolled",
            entity_type="user",
            entity_id=user.id,
            after={"totp": True},
        )
        uow.commit()
        return _read(user)


def create_user_as_operator(*, tenant_slug: str, person_in: PersonCreate) -> PersonRead:
    """Create an account from the command line (system work: the first admin of a fresh install)."""
    with UnitOfWork(None) as uow:
        tenant = uow.session.scalar(
            select(Tenant).where(Tenant.slug == tenant_slug.strip().lower())
        )
        if tenant is None:
            raise NotFound(
                f"There is no workspace {tenant_slug!r}; create it with `revo tenants create`."
            )
        user = add_user(uow, tenant_id=tenant.id, person_in=person_in)
        audit.record(
            uow, action="user.created", entity_type="user", entity_id=user.id, tenant_id=tenant.id,
            after={"email": user.email, "role": user.role.value, "by": "operator",
                   "password": user.password_hash is not None},
        )  # fmt: skip
        uow.commit()
        return _read(user)
