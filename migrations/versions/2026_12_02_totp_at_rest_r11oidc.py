"""totp at rest: users.totp_secret holds the secret encrypted (services/identity/secret_box.py)

The column widens to fit the sealed form and every stored secret is encrypted with
REVO_TOTP_ENCRYPTION_KEY. When secrets exist and the key is not set, the upgrade stops with a
message saying so (nothing changes). The downgrade decrypts them again.

Revision ID: r11oidc
Revises: r11notify
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from services.config import Settings
from services.identity import secret_box

revision: str = "r11oidc"
down_revision: str | None = "r11notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table(
    "users", sa.column("id", sa.BigInteger()), sa.column("totp_secret", sa.String(255))
)


def _key() -> str | None:
    key = Settings().totp_encryption_key  # read now, not the process's cached settings
    return key.get_secret_value() if key else None


def _rewrite(change: Callable[[str], str], skip: Callable[[str], bool]) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.is_not(None))
    ).all()
    for user_id, stored in rows:
        if not skip(stored):
            bind.execute(
                users.update().where(users.c.id == user_id).values(totp_secret=change(stored))
            )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=255)
        )
    key = _key()
    _rewrite(
        lambda plain: secret_box.seal(plain, key_setting=key),
        lambda stored: stored.startswith(secret_box.PREFIX),
    )


def downgrade() -> None:
    key = _key()
    _rewrite(
        lambda sealed: secret_box.unseal(sealed, key_setting=key),
        lambda stored: not stored.startswith(secret_box.PREFIX),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret", existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
