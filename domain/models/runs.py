from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain import transitions
from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum
from domain.enums import AgentName, LLMMode, LLMOutcome, RunStatus, RunTrigger


class AgentRun(TenantScoped, Timestamped, Versioned, Base):
    __tablename__ = "agent_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_agent_runs_tenant_agent_started", "tenant_id", "agent", "started_at"),
        Index("ix_agent_runs_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_agent_runs_status_next_attempt", "status", "next_attempt_at"),
        # metrics: newest runs of a period (the recent-runs table) and period scans
        Index("ix_agent_runs_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    agent: Mapped[AgentName] = mapped_column(str_enum(AgentName))
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigId)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    triggered_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    def cancel(self, now: datetime) -> None:
        """Stop the run for good: it loses its lease and will not be picked up again."""
        if self.status not in CANCELLABLE:
            raise transitions.InvalidTransition(
                "run",
                self.status,
                RunStatus.CANCELLED,
                f"Run #{self.id} is {self.status.value}; only queued, retrying or running runs "
                "can be cancelled.",
            )
        self.status = transitions.agent_run(self.status, RunStatus.CANCELLED)
        self.finished_at = now
        self.next_attempt_at = None
        self.lease_owner = None
        self.lease_expires_at = None

    def retry(self, now: datetime) -> None:
        """Give a failed or dead run one more attempt, due now."""
        if self.status not in RETRYABLE:
            raise transitions.InvalidTransition(
                "run",
                self.status,
                RunStatus.RETRYING,
                f"Run #{self.id} is {self.status.value}; only failed or dead runs can be retried.",
            )
        self.status = transitions.agent_run(self.status, RunStatus.RETRYING)
        self.next_attempt_at = now
        self.finished_at = None
        self.max_attempts = max(self.max_attempts, self.attempts + 1)


CANCELLABLE = transitions.sources(transitions.RUN_TRANSITIONS, RunStatus.CANCELLED)
RETRYABLE = transitions.sources(transitions.RUN_TRANSITIONS, RunStatus.RETRYING)


class LLMCall(TenantScoped, Timestamped, Base):
    __tablename__ = "llm_calls"
    __table_args__ = (
        Index("ix_llm_calls_tenant_created", "tenant_id", "created_at"),
        Index("ix_llm_calls_tenant_model_created", "tenant_id", "model", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agent_runs.id", ondelete="SET NULL"), index=True
    )
    prompt_key: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[int] = mapped_column(Integer)
    prompt_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    mode: Mapped[LLMMode] = mapped_column(str_enum(LLMMode))
    latency_ms: Mapped[int] = mapped_column(Integer)
    load_ms: Mapped[int | None] = mapped_column(Integer)  # measured model load; NULL: none
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    reasks: Mapped[int] = mapped_column(Integer, default=0)
    repaired: Mapped[bool] = mapped_column(Boolean, default=False)
    validation_errors: Mapped[list[Any] | None]
    outcome: Mapped[LLMOutcome] = mapped_column(str_enum(LLMOutcome))
    error: Mapped[str | None] = mapped_column(Text)
    raw_output: Mapped[str | None] = mapped_column(Text)


class Prompt(TenantScoped, Timestamped, Versioned, Base):
    """One version of a prompt template; exactly one version per key is active."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key", "version"),
        Index("ix_prompts_tenant_key_active", "tenant_id", "key", "is_active"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
