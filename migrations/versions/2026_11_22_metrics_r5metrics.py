"""metrics: daily rollups of agent runs and LLM calls, kept current by triggers

Revision ID: r5metrics
Revises: cb27a5595613
Create Date: 2026-11-22 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r5metrics"
down_revision: str | None = "cb27a5595613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The rollup triggers, their full rebuild and their removal exactly as this revision made them
# (frozen from services/metrics/rollup_sql.py as it was then: a later change to the live code
# needs a revision of its own, and must not change what this one builds).

SQLITE_INSTALL = [
    """CREATE TRIGGER trg_metric_runs_insert AFTER INSERT ON agent_runs BEGIN 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.agent, NEW.status, 1, 1 * (CASE WHEN NEW.attempts > 1 THEN 1 ELSE 0 END),
        1 * max(NEW.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.agent, CAST(floor(ln(max(NEW.duration_ms, 1)) / ln(1.05)) AS INTEGER), 1
WHERE NEW.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_runs_update AFTER UPDATE OF status, attempts, duration_ms, created_at, agent, tenant_id ON agent_runs BEGIN 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.agent, OLD.status, -1, -1 * (CASE WHEN OLD.attempts > 1 THEN 1 ELSE 0 END),
        -1 * max(OLD.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.agent, CAST(floor(ln(max(OLD.duration_ms, 1)) / ln(1.05)) AS INTEGER), -1
WHERE OLD.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n; 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.agent, NEW.status, 1, 1 * (CASE WHEN NEW.attempts > 1 THEN 1 ELSE 0 END),
        1 * max(NEW.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.agent, CAST(floor(ln(max(NEW.duration_ms, 1)) / ln(1.05)) AS INTEGER), 1
WHERE NEW.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_runs_delete AFTER DELETE ON agent_runs BEGIN 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.agent, OLD.status, -1, -1 * (CASE WHEN OLD.attempts > 1 THEN 1 ELSE 0 END),
        -1 * max(OLD.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.agent, CAST(floor(ln(max(OLD.duration_ms, 1)) / ln(1.05)) AS INTEGER), -1
WHERE OLD.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_calls_insert AFTER INSERT ON llm_calls BEGIN 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  NEW.outcome, 1, 1 * NEW.prompt_tokens, 1 * NEW.completion_tokens,
  1 * NEW.latency_ms, 1 * (CASE WHEN NEW.repaired THEN 1 ELSE 0 END), 1 * NEW.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  CAST(floor(ln(max(NEW.latency_ms, 1)) / ln(1.05)) AS INTEGER), 1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_calls_update AFTER UPDATE OF tenant_id, created_at, run_id, model, prompt_key, prompt_version, outcome, latency_ms, prompt_tokens, completion_tokens, repaired, reasks ON llm_calls BEGIN 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  OLD.outcome, -1, -1 * OLD.prompt_tokens, -1 * OLD.completion_tokens,
  -1 * OLD.latency_ms, -1 * (CASE WHEN OLD.repaired THEN 1 ELSE 0 END), -1 * OLD.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  CAST(floor(ln(max(OLD.latency_ms, 1)) / ln(1.05)) AS INTEGER), -1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n; 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  NEW.outcome, 1, 1 * NEW.prompt_tokens, 1 * NEW.completion_tokens,
  1 * NEW.latency_ms, 1 * (CASE WHEN NEW.repaired THEN 1 ELSE 0 END), 1 * NEW.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  CAST(floor(ln(max(NEW.latency_ms, 1)) / ln(1.05)) AS INTEGER), 1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_calls_delete AFTER DELETE ON llm_calls BEGIN 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  OLD.outcome, -1, -1 * OLD.prompt_tokens, -1 * OLD.completion_tokens,
  -1 * OLD.latency_ms, -1 * (CASE WHEN OLD.repaired THEN 1 ELSE 0 END), -1 * OLD.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  CAST(floor(ln(max(OLD.latency_ms, 1)) / ln(1.05)) AS INTEGER), -1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_reviews_insert AFTER INSERT ON review_items BEGIN 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), NEW.status, (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(NEW.reason_code, ''), 1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'edit', CAST(floor(ln(max(NEW.edit_distance, 1)) / ln(1.05)) AS INTEGER), 1
WHERE (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND NEW.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'wait', CAST(floor(ln(max(((julianday(NEW.decided_at) - julianday(NEW.created_at)) * 86400.0), 1)) / ln(1.05)) AS INTEGER), 1
WHERE NEW.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_reviews_update AFTER UPDATE OF tenant_id, created_at, drafted_by, run_id, status, edit_distance, reason_code, decided_at ON review_items BEGIN 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), OLD.status, (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(OLD.reason_code, ''), -1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'edit', CAST(floor(ln(max(OLD.edit_distance, 1)) / ln(1.05)) AS INTEGER), -1
WHERE (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND OLD.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'wait', CAST(floor(ln(max(((julianday(OLD.decided_at) - julianday(OLD.created_at)) * 86400.0), 1)) / ln(1.05)) AS INTEGER), -1
WHERE OLD.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n; 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), NEW.status, (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(NEW.reason_code, ''), 1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'edit', CAST(floor(ln(max(NEW.edit_distance, 1)) / ln(1.05)) AS INTEGER), 1
WHERE (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND NEW.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, substr(NEW.created_at, 1, 10) || ' 00:00:00.000000', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'wait', CAST(floor(ln(max(((julianday(NEW.decided_at) - julianday(NEW.created_at)) * 86400.0), 1)) / ln(1.05)) AS INTEGER), 1
WHERE NEW.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n; END""",
    """CREATE TRIGGER trg_metric_reviews_delete AFTER DELETE ON review_items BEGIN 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), OLD.status, (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(OLD.reason_code, ''), -1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'edit', CAST(floor(ln(max(OLD.edit_distance, 1)) / ln(1.05)) AS INTEGER), -1
WHERE (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND OLD.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, substr(OLD.created_at, 1, 10) || ' 00:00:00.000000', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'wait', CAST(floor(ln(max(((julianday(OLD.decided_at) - julianday(OLD.created_at)) * 86400.0), 1)) / ln(1.05)) AS INTEGER), -1
WHERE OLD.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n; END""",
]

SQLITE_REBUILD = [
    "DELETE FROM metric_run_days",
    "DELETE FROM metric_run_duration_days",
    "DELETE FROM metric_call_days",
    "DELETE FROM metric_call_latency_days",
    "DELETE FROM metric_review_days",
    "DELETE FROM metric_review_hist_days",
    "INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts) SELECT tenant_id, substr(created_at, 1, 10) || ' 00:00:00.000000', agent, status, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), sum(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END) FROM agent_runs GROUP BY 1, 2, 3, 4",
    "INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n) SELECT tenant_id, substr(created_at, 1, 10) || ' 00:00:00.000000', agent, CAST(floor(ln(max(duration_ms, 1)) / ln(1.05)) AS INTEGER), count(*) FROM agent_runs WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4",
    "INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens, latency_ms, repaired, reasks) SELECT c.tenant_id, substr(c.created_at, 1, 10) || ' 00:00:00.000000', coalesce(r.agent, ''), c.model, c.prompt_key, c.prompt_version, c.outcome, count(*), sum(c.prompt_tokens), sum(c.completion_tokens), sum(c.latency_ms), sum(CASE WHEN c.repaired THEN 1 ELSE 0 END), sum(c.reasks) FROM llm_calls c LEFT JOIN agent_runs r ON r.id = c.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n) SELECT c.tenant_id, substr(c.created_at, 1, 10) || ' 00:00:00.000000', coalesce(r.agent, ''), c.model, c.prompt_key, c.prompt_version, CAST(floor(ln(max(c.latency_ms, 1)) / ln(1.05)) AS INTEGER), count(*) FROM llm_calls c LEFT JOIN agent_runs r ON r.id = c.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n) SELECT i.tenant_id, substr(i.created_at, 1, 10) || ' 00:00:00.000000', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), i.status, (CASE WHEN coalesce(i.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(i.reason_code, ''), count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    "INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n) SELECT i.tenant_id, substr(i.created_at, 1, 10) || ' 00:00:00.000000', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), 'edit', CAST(floor(ln(max(i.edit_distance, 1)) / ln(1.05)) AS INTEGER), count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id WHERE (CASE WHEN coalesce(i.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND i.status IN ('approved', 'executed', 'failed') GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n) SELECT i.tenant_id, substr(i.created_at, 1, 10) || ' 00:00:00.000000', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), 'wait', CAST(floor(ln(max(((julianday(i.decided_at) - julianday(i.created_at)) * 86400.0), 1)) / ln(1.05)) AS INTEGER), count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id WHERE i.decided_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS trg_metric_runs_insert",
    "DROP TRIGGER IF EXISTS trg_metric_runs_update",
    "DROP TRIGGER IF EXISTS trg_metric_runs_delete",
    "DROP TRIGGER IF EXISTS trg_metric_calls_insert",
    "DROP TRIGGER IF EXISTS trg_metric_calls_update",
    "DROP TRIGGER IF EXISTS trg_metric_calls_delete",
    "DROP TRIGGER IF EXISTS trg_metric_reviews_insert",
    "DROP TRIGGER IF EXISTS trg_metric_reviews_update",
    "DROP TRIGGER IF EXISTS trg_metric_reviews_delete",
]

POSTGRESQL_INSTALL = [
    """CREATE FUNCTION metric_runs_trigger() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', OLD.agent, OLD.status, -1, -1 * (CASE WHEN OLD.attempts > 1 THEN 1 ELSE 0 END),
        -1 * GREATEST(OLD.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', OLD.agent, floor(ln(GREATEST(OLD.duration_ms, 1)::float8) / ln(1.05::float8))::int, -1
WHERE OLD.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN 
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES (NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.agent, NEW.status, 1, 1 * (CASE WHEN NEW.attempts > 1 THEN 1 ELSE 0 END),
        1 * GREATEST(NEW.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.agent, floor(ln(GREATEST(NEW.duration_ms, 1)::float8) / ln(1.05::float8))::int, 1
WHERE NEW.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER trg_metric_runs AFTER INSERT OR DELETE OR UPDATE OF status, attempts, duration_ms, created_at, agent, tenant_id ON agent_runs FOR EACH ROW EXECUTE FUNCTION metric_runs_trigger()",
    """CREATE FUNCTION metric_calls_trigger() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  OLD.outcome, -1, -1 * OLD.prompt_tokens, -1 * OLD.completion_tokens,
  -1 * OLD.latency_ms, -1 * (CASE WHEN OLD.repaired THEN 1 ELSE 0 END), -1 * OLD.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = OLD.run_id), ''), OLD.model, OLD.prompt_key, OLD.prompt_version,
  floor(ln(GREATEST(OLD.latency_ms, 1)::float8) / ln(1.05::float8))::int, -1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN 
INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES (NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  NEW.outcome, 1, 1 * NEW.prompt_tokens, 1 * NEW.completion_tokens,
  1 * NEW.latency_ms, 1 * (CASE WHEN NEW.repaired THEN 1 ELSE 0 END), 1 * NEW.reasks)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n)
VALUES (NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = NEW.run_id), ''), NEW.model, NEW.prompt_key, NEW.prompt_version,
  floor(ln(GREATEST(NEW.latency_ms, 1)::float8) / ln(1.05::float8))::int, 1)
ON CONFLICT (tenant_id, day, agent, model, prompt_key, prompt_version, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER trg_metric_calls AFTER INSERT OR DELETE OR UPDATE OF tenant_id, created_at, run_id, model, prompt_key, prompt_version, outcome, latency_ms, prompt_tokens, completion_tokens, repaired, reasks ON llm_calls FOR EACH ROW EXECUTE FUNCTION metric_calls_trigger()",
    """CREATE FUNCTION metric_reviews_trigger() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), OLD.status, (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(OLD.reason_code, ''), -1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'edit', floor(ln(GREATEST(OLD.edit_distance, 1)::float8) / ln(1.05::float8))::int, -1
WHERE (CASE WHEN coalesce(OLD.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND OLD.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT OLD.tenant_id, date_trunc('day', OLD.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', OLD.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = OLD.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = OLD.run_id), -1), 'wait', floor(ln(GREATEST(extract(epoch from OLD.decided_at - OLD.created_at), 1)::float8) / ln(1.05::float8))::int, -1
WHERE OLD.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN 
INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n)
VALUES (NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), NEW.status, (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(NEW.reason_code, ''), 1)
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'edit', floor(ln(GREATEST(NEW.edit_distance, 1)::float8) / ln(1.05::float8))::int, 1
WHERE (CASE WHEN coalesce(NEW.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND NEW.status IN ('approved', 'executed', 'failed')
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n)
SELECT NEW.tenant_id, date_trunc('day', NEW.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', NEW.drafted_by, coalesce((SELECT max(c.prompt_key) FROM llm_calls c WHERE c.run_id = NEW.run_id), 'none'), coalesce((SELECT max(c.prompt_version) FROM llm_calls c WHERE c.run_id = NEW.run_id), -1), 'wait', floor(ln(GREATEST(extract(epoch from NEW.decided_at - NEW.created_at), 1)::float8) / ln(1.05::float8))::int, 1
WHERE NEW.decided_at IS NOT NULL
ON CONFLICT (tenant_id, day, agent, prompt_key, prompt_version, measure, bin) DO UPDATE SET
  n = metric_review_hist_days.n + excluded.n;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER trg_metric_reviews AFTER INSERT OR DELETE OR UPDATE OF tenant_id, created_at, drafted_by, run_id, status, edit_distance, reason_code, decided_at ON review_items FOR EACH ROW EXECUTE FUNCTION metric_reviews_trigger()",
]

POSTGRESQL_REBUILD = [
    "DELETE FROM metric_run_days",
    "DELETE FROM metric_run_duration_days",
    "DELETE FROM metric_call_days",
    "DELETE FROM metric_call_latency_days",
    "DELETE FROM metric_review_days",
    "DELETE FROM metric_review_hist_days",
    "INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts) SELECT tenant_id, date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', agent, status, count(*), sum(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), sum(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END) FROM agent_runs GROUP BY 1, 2, 3, 4",
    "INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n) SELECT tenant_id, date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', agent, floor(ln(GREATEST(duration_ms, 1)::float8) / ln(1.05::float8))::int, count(*) FROM agent_runs WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4",
    "INSERT INTO metric_call_days (tenant_id, day, agent, model, prompt_key, prompt_version, outcome, calls, prompt_tokens, completion_tokens, latency_ms, repaired, reasks) SELECT c.tenant_id, date_trunc('day', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce(r.agent, ''), c.model, c.prompt_key, c.prompt_version, c.outcome, count(*), sum(c.prompt_tokens), sum(c.completion_tokens), sum(c.latency_ms), sum(CASE WHEN c.repaired THEN 1 ELSE 0 END), sum(c.reasks) FROM llm_calls c LEFT JOIN agent_runs r ON r.id = c.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_call_latency_days (tenant_id, day, agent, model, prompt_key, prompt_version, bin, n) SELECT c.tenant_id, date_trunc('day', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce(r.agent, ''), c.model, c.prompt_key, c.prompt_version, floor(ln(GREATEST(c.latency_ms, 1)::float8) / ln(1.05::float8))::int, count(*) FROM llm_calls c LEFT JOIN agent_runs r ON r.id = c.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_review_days (tenant_id, day, agent, prompt_key, prompt_version, status, edited, reason_code, n) SELECT i.tenant_id, date_trunc('day', i.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), i.status, (CASE WHEN coalesce(i.edit_distance, 0) > 0 THEN 1 ELSE 0 END), coalesce(i.reason_code, ''), count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    "INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n) SELECT i.tenant_id, date_trunc('day', i.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), 'edit', floor(ln(GREATEST(i.edit_distance, 1)::float8) / ln(1.05::float8))::int, count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id WHERE (CASE WHEN coalesce(i.edit_distance, 0) > 0 THEN 1 ELSE 0 END) = 1 AND i.status IN ('approved', 'executed', 'failed') GROUP BY 1, 2, 3, 4, 5, 6, 7",
    "INSERT INTO metric_review_hist_days (tenant_id, day, agent, prompt_key, prompt_version, measure, bin, n) SELECT i.tenant_id, date_trunc('day', i.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', i.drafted_by, coalesce(p.pk, 'none'), coalesce(p.pv, -1), 'wait', floor(ln(GREATEST(extract(epoch from i.decided_at - i.created_at), 1)::float8) / ln(1.05::float8))::int, count(*) FROM review_items i LEFT JOIN (SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls WHERE run_id IS NOT NULL GROUP BY run_id) p ON p.run_id = i.run_id WHERE i.decided_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7",
]

POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS trg_metric_runs ON agent_runs",
    "DROP FUNCTION IF EXISTS metric_runs_trigger()",
    "DROP TRIGGER IF EXISTS trg_metric_calls ON llm_calls",
    "DROP FUNCTION IF EXISTS metric_calls_trigger()",
    "DROP TRIGGER IF EXISTS trg_metric_reviews ON review_items",
    "DROP FUNCTION IF EXISTS metric_reviews_trigger()",
]


def _run(statements: dict[str, list[str]]) -> None:
    bind = op.get_bind()
    for statement in statements[bind.dialect.name]:
        bind.exec_driver_sql(statement)


def _table(name: str, keys: list[sa.Column], values: list[sa.Column]) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        *keys,
        *values,
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{name}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "agent", *(c.name for c in keys), name=op.f(f"pk_{name}")
        ),
    )


def _call_keys() -> list[sa.Column]:
    return [
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("prompt_key", sa.String(length=100), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
    ]


def _review_keys() -> list[sa.Column]:
    return [
        sa.Column("prompt_key", sa.String(length=100), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    _table(
        "metric_run_days",
        [sa.Column("status", sa.String(length=32), nullable=False)],
        [
            sa.Column("runs", sa.Integer(), nullable=False),
            sa.Column("retried_runs", sa.Integer(), nullable=False),
            sa.Column("retry_attempts", sa.Integer(), nullable=False),
        ],
    )
    _table(
        "metric_run_duration_days",
        [sa.Column("bin", sa.Integer(), nullable=False)],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_call_days",
        [*_call_keys(), sa.Column("outcome", sa.String(length=32), nullable=False)],
        [
            sa.Column("calls", sa.Integer(), nullable=False),
            sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
            sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
            sa.Column("latency_ms", sa.BigInteger(), nullable=False),
            sa.Column("repaired", sa.Integer(), nullable=False),
            sa.Column("reasks", sa.Integer(), nullable=False),
        ],
    )
    _table(
        "metric_call_latency_days",
        [*_call_keys(), sa.Column("bin", sa.Integer(), nullable=False)],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_review_days",
        [
            *_review_keys(),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("edited", sa.Integer(), nullable=False),
            sa.Column("reason_code", sa.String(length=32), nullable=False),
        ],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_review_hist_days",
        [
            *_review_keys(),
            sa.Column("measure", sa.String(length=8), nullable=False),
            sa.Column("bin", sa.Integer(), nullable=False),
        ],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    op.create_index("ix_agent_runs_tenant_created", "agent_runs", ["tenant_id", "created_at"])
    op.create_index(
        "ix_review_items_tenant_decided",
        "review_items",
        ["tenant_id", "decided_at", "status", "decided_by_id"],
    )
    _run({"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL})
    _run({"sqlite": SQLITE_REBUILD, "postgresql": POSTGRESQL_REBUILD})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})
    op.drop_index("ix_review_items_tenant_decided", table_name="review_items")
    op.drop_index("ix_agent_runs_tenant_created", table_name="agent_runs")
    for name in (
        "metric_review_hist_days",
        "metric_review_days",
        "metric_call_latency_days",
        "metric_call_days",
        "metric_run_duration_days",
        "metric_run_days",
    ):
        op.drop_table(name)
