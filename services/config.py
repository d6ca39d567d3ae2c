"""The one settings class. Read from REVO_* environment variables and an optional .env file."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

AUTH_MODES = {"disabled", "demo", "oidc", "password", "proxy"}
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev-secret"}
DATABASE_BACKENDS = {"sqlite", "postgresql"}


def parse_database_url(raw: str) -> URL:
    """The database URL (PostgreSQL on psycopg), or ValueError saying what is wrong with it."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ValueError(f"{raw!r} is not a database URL: {exc}") from exc
    if url.get_backend_name() not in DATABASE_BACKENDS:
        raise ValueError(
            f"uses {url.get_backend_name()!r}; use sqlite:/// or postgresql+psycopg://"
        )
    if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
        url = url.set(drivername="postgresql+psycopg")
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REVO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/revo.db"
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    db_pool_size: int = Field(default=5, ge=1)

    # One mode or several, comma-separated: oidc, password, proxy, demo (loopback only); or
    # disabled.
    auth_mode: str = "disabled"
    secret_key: SecretStr = SecretStr("change-me")
    password_min_length: int = Field(default=12, ge=8, le=128)
    auth_max_failures: int = Field(default=5, ge=1, le=100)
    auth_lockout_base_s: float = Field(default=30.0, ge=0)
    auth_lockout_max_s: float = Field(default=3600.0, ge=0)
    # Per client address, beside the per-account lockout: this many failed sign-ins in the window
    # refuse every further attempt from that address until the window has passed (per process).
    auth_ip_max_failures: int = Field(default=20, ge=1, le=10_000)
    auth_ip_window_s: float = Field(default=300.0, gt=0)
    # Encrypts TOTP secrets at rest; comma-separated to rotate (the first encrypts, all decrypt).
    totp_encryption_key: SecretStr | None = None
    session_idle_minutes: float = Field(default=60.0, gt=0)
    session_absolute_hours: float = Field(default=12.0, gt=0)
    proxy_email_header: str = Field(default="X-Forwarded-Email", min_length=1)
    proxy_user_header: str = Field(default="X-Forwarded-User", min_length=1)
    # The proxy proves a request came through it by sending this secret in proxy_secret_header;
    # identity headers on a request without it are dropped (required in production).
    proxy_shared_secret: SecretStr | None = None
    # Emails (comma-separated) of the people who may create workspaces from the console.
    platform_admins: str = ""
    proxy_secret_header: str = Field(default="X-Revo-Proxy-Secret", min_length=1)
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_metadata_url: str | None = None
    oidc_redirect_uri: str | None = None
    oidc_cookie_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    # Claim -> role: with a map ("revo-admins=admin,ops=reviewer"), a mapped claim value sets the
    # role; without one, a claim value that names a role does. Unset: the user row decides.
    oidc_role_claim: str | None = None  # e.g. "groups"
    oidc_role_map: str = ""
    # Claim -> tenant: a claim whose value is a workspace slug, or verified email domains
    # ("acme.com=acme,acme.de=acme"). Used to link or just-in-time provision a new identity.
    oidc_tenant_claim: str | None = None  # e.g. "org"
    oidc_tenant_domains: str = ""

    @property
    def auth_modes(self) -> frozenset[str]:
        """The enabled sign-in modes (empty when sign-in is disabled)."""
        modes = {m.strip().lower() for m in self.auth_mode.split(",") if m.strip()}
        return frozenset(modes - {"disabled"})

    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    llm_base_url: str = "http://localhost:11434/v1"
    llm_model: str = "llama3.2"
    llm_mode: Literal["json_schema", "tools", "json"] = "json_schema"
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_reasks: int = Field(default=2, ge=0, le=5)
    llm_local: bool = False  # start llama.cpp's server with SmolLM2 (the local-llm extra)
    llm_transport_attempts: int = Field(default=3, ge=1, le=10)
    llm_deadline_s: float = Field(default=180.0, gt=0)
    llm_breaker_failures: int = Field(default=3, ge=1)
    llm_breaker_cooldown_s: float = Field(default=30.0, ge=0)
    # How long Ollama keeps a model the client pre-loads (its duration form: 5m, 1h30m, 300s).
    llm_keep_alive: str = Field(default="5m", pattern=r"^(-1|0|\d+|(\d+(\.\d+)?(ms|s|m|h))+)$")
    worker_lease_s: float = Field(default=60.0, gt=0)
    worker_poll_s: float = Field(default=1.0, gt=0)
    worker_retry_base_s: float = Field(default=5.0, ge=0)
    worker_retry_max_s: float = Field(default=300.0, ge=0)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "revo-console@localhost"

    # Notifications and alerts (the outbox): links in messages point at console_url.
    console_url: str = "http://localhost:8501"
    notify_max_attempts: int = Field(default=5, ge=1, le=50)
    notify_retry_base_s: float = Field(default=10.0, ge=0)
    notify_retry_max_s: float = Field(default=3600.0, ge=0)
    notify_lease_s: float = Field(default=60.0, gt=0)
    notify_batch: int = Field(default=100, ge=1, le=10_000)
    notify_send_concurrency: int = Field(default=8, ge=1, le=64)
    notify_http_timeout_s: float = Field(default=10.0, gt=0)
    notify_tick_s: float = Field(default=2.0, gt=0)
    notify_sla_warning_minutes: int = Field(default=30, ge=1)
    notify_claim_warning_minutes: int = Field(default=3, ge=1)

    review_claim_minutes: int = Field(default=15, ge=1)
    review_sweep_s: float = Field(default=60.0, gt=0)

    metrics_price_per_1k_tokens: float = Field(default=0.0, ge=0)
    metrics_price_per_gpu_hour: float = Field(default=0.0, ge=0)
    metrics_currency: str = Field(default="USD", min_length=1, max_length=8)
    metrics_refresh_seconds: int = Field(default=10, ge=2, le=3600)
    metrics_rollups: bool = True
    metrics_exact_max_rows: int = Field(default=50_000, ge=0)
    embedded_worker: bool = True

    ingest_roots: str = "./var/ingest"
    ingest_max_upload_mb: float = Field(default=1024.0, gt=0)
    ingest_max_line_bytes: int = Field(default=65_536, ge=256)
    ingest_retry_attempts: int = Field(default=3, ge=1, le=10)
    ingest_retry_backoff_s: float = Field(default=0.5, ge=0)
    ingest_breaker_threshold: int = Field(default=3, ge=1)
    ingest_breaker_cooldown_s: float = Field(default=60.0, ge=0)
    ingest_future_skew_s: int = Field(default=300, ge=0)
    ingest_slow_span_ms: float = Field(default=1000.0, gt=0)

    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_max_json_depth: int = Field(default=32, ge=2, le=200)
    api_token_rate_per_minute: int = Field(default=600, ge=1)
    api_tenant_rate_per_minute: int = Field(default=6000, ge=1)  # all of a tenant's tokens
    api_wait_max_s: float = Field(default=60.0, ge=0, le=600)
    # A long-poll re-reads its item this often, for decisions made in another process (a
    # decision in this process wakes it at once).
    api_wait_reread_s: float = Field(default=1.0, gt=0, le=600)
    metrics_token: SecretStr | None = None  # /metrics needs "Authorization: Bearer <it>"
    # HMAC keys of the audit chain, comma-separated: the first signs, all verify (rotation).
    # Unset: SQLite makes one beside its file (<db>.audit-key); PostgreSQL stays unkeyed.
    audit_key: SecretStr | None = None
    audit_anchor_file: str = "./var/audit-anchors.jsonl"  # append-only; keep it off the DB host
    audit_anchor_interval_s: float = Field(default=900.0, gt=0)

    @property
    def ingest_root_paths(self) -> list[Path]:
        """The allow-listed ingest roots, resolved (separated by the OS path separator)."""
        parts = [p.strip() for p in self.ingest_roots.split(os.pathsep) if p.strip()]
        return [Path(p).expanduser().resolve() for p in parts]

    @field_validator("auth_mode")
    @classmethod
    def _known_modes(cls, value: str) -> str:
        modes = {m.strip().lower() for m in value.split(",") if m.strip()} or {"disabled"}
        unknown = modes - AUTH_MODES
        if unknown:
            raise ValueError(
                f"REVO_AUTH_MODE has unknown mode(s) {sorted(unknown)}; "
                f"use one or more of {sorted(AUTH_MODES)}, comma-separated"
            )
        if "disabled" in modes and len(modes) > 1:
            raise ValueError("REVO_AUTH_MODE=disabled cannot be combined with another mode")
        return ",".join(sorted(modes))

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            parse_database_url(value)
        except ValueError as exc:
            raise ValueError(f"REVO_DATABASE_URL {exc}") from exc
        return value

    @field_validator(
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "oidc_client_id",
        "oidc_client_secret",
        "oidc_metadata_url",
        "oidc_redirect_uri",
        "oidc_cookie_secret",
        "oidc_role_claim",
        "oidc_tenant_claim",
        "totp_encryption_key",
        "proxy_shared_secret",
        "audit_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.env == "production" and (secret in PLACEHOLDER_SECRETS or len(secret) < 32):
            raise ValueError(
                "REVO_SECRET_KEY must be a real secret of at least 32 characters in production"
            )
        if self.env == "production" and "demo" in self.auth_modes:
            raise ValueError("REVO_AUTH_MODE=demo is not allowed in production")
        if self.totp_encryption_key is not None:
            keys = self.totp_encryption_key.get_secret_value().split(",")
            if any(len(k.strip()) < 32 or k.strip() in PLACEHOLDER_SECRETS for k in keys):
                raise ValueError(
                    "REVO_TOTP_ENCRYPTION_KEY must be one or more comma-separated random "
                    "secrets of at least 32 characters each"
                )
        if self.audit_key is not None:
            keys = self.audit_key.get_secret_value().split(",")
            if any(len(k.strip()) < 32 or k.strip() in PLACEHOLDER_SECRETS for k in keys):
                raise ValueError(
                    "REVO_AUDIT_KEY must be one or more comma-separated random secrets of at "
                    "least 32 characters each (the first signs new audit entries, all verify)"
                )
        if "proxy" in self.auth_modes:
            shared = self.proxy_shared_secret.get_secret_value() if self.proxy_shared_secret else ""
            if shared and (shared in PLACEHOLDER_SECRETS or len(shared) < 32):
                raise ValueError("REVO_PROXY_SHARED_SECRET must be at least 32 random characters")
            if self.env == "production" and not shared:
                raise ValueError(
                    "REVO_AUTH_MODE=proxy needs REVO_PROXY_SHARED_SECRET in production: without "
                    "it anyone who reaches the console directly can send an identity header"
                )
        if "oidc" in self.auth_modes:
            missing = [
                f"REVO_{name.upper()}"
                for name in (
                    "oidc_client_id",
                    "oidc_client_secret",
                    "oidc_metadata_url",
                    "oidc_redirect_uri",
                    "oidc_cookie_secret",
                )
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"REVO_AUTH_MODE=oidc needs {', '.join(missing)}")
            redirect = self.oidc_redirect_uri or ""
            if not redirect.startswith(("http://", "https://")) or not redirect.endswith(
                "/oauth2callback"
            ):
                raise ValueError(
                    "REVO_OIDC_REDIRECT_URI must be the console's absolute URL ending in "
                    "/oauth2callback, e.g. https://console.example.com/oauth2callback"
                )
            cookie = self.oidc_cookie_secret.get_secret_value() if self.oidc_cookie_secret else ""
            if self.env == "production" and (cookie in PLACEHOLDER_SECRETS or len(cookie) < 32):
                raise ValueError("REVO_OIDC_COOKIE_SECRET must be at least 32 characters")
        return self


def platform_admin_emails(settings: Settings) -> frozenset[str]:
    """REVO_PLATFORM_ADMINS as a set of lower-case emails."""
    return frozenset(e.strip().lower() for e in settings.platform_admins.split(",") if e.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
