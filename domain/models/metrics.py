"""Daily rollups of agent runs and LLM calls, maintained on write by database triggers.

The triggers (migration r5metrics) add a row's contribution on insert, move it on update and
remove it on delete, whoever writes: the ORM, a bulk Core insert or PostgreSQL COPY. The metrics
service reads them when a period holds too many rows to aggregate on the fly. Latency and
duration percentiles come from log-scale histograms: bin ``b`` holds values ``v`` with
``floor(ln(max(v, 1)) / ln(1.05)) == b``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId

HISTOGRAM_BASE = 1.05
NO_AGENT = ""  # an LLM call made outside any run


class _Rollup:
    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[datetime] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(32), primary_key=True)


class MetricRunDay(_Rollup, Base):
    """Runs created on a UTC day, per agent and current status."""

    __tablename__ = "metric_run_days"

    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    retried_runs: Mapped[int] = mapped_column(Integer, default=0)
    retry_attempts: Mapped[int] = mapped_column(Integer, default=0)


class MetricRunDurationDay(_Rollup, Base):
    """Histogram of run durations (runs created on a UTC day), per agent."""

    __tablename__ = "metric_run_duration_days"

    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class _CallKey(_Rollup):
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    prompt_version: Mapped[int] = mapped_column(Integer, primary_key=True)


class MetricCallDay(_CallKey, Base):
    """LLM calls made on a UTC day, per agent of their run, model, prompt version and outcome."""

    __tablename__ = "metric_call_days"

    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    repaired: Mapped[int] = mapped_column(Integer, default=0)
    reasks: Mapped[int] = mapped_column(Integer, default=0)


class MetricCallLatencyDay(_CallKey, Base):
    """Histogram of LLM-call latency on a UTC day, per agent, model and prompt version."""

    __tablename__ = "metric_call_latency_days"

    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class _ReviewKey(_Rollup):
    """Drafts by the UTC day they were created, per drafting agent and the prompt version of the
    run that produced them ("none" and -1 without one)."""

    prompt_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    prompt_version: Mapped[int] = mapped_column(Integer, primary_key=True)


class MetricReviewDay(_ReviewKey, Base):
    """Review items per current status, whether they were edited, and the rejection reason."""

    __tablename__ = "metric_review_days"

    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    edited: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class MetricReviewHistDay(_ReviewKey, Base):
    """Histograms of edit distance of approved edited drafts ("edit") and seconds to decision
    ("wait")."""

    __tablename__ = "metric_review_hist_days"

    measure: Mapped[str] = mapped_column(String(8), primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
