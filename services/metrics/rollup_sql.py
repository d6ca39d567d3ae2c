"""The triggers that keep the daily metric rollups current, and a full rebuild, per engine.

Every write to ``agent_runs`` or ``llm_calls`` moves its row's contribution: insert adds it,
delete subtracts it, an update of a rolled-up column subtracts the old row and adds the new one.
Bulk loaders may drop the triggers, load, then ``rebuild`` and ``install`` (see bench/metrics.py).
An LLM call stays under the agent its run had when the call was written; a review item under
the prompt version its run's LLM calls had when the item was written (agents make their calls
before they write the draft; ``rebuild`` repairs the counts if a run makes calls afterwards).
"""

from __future__ import annotations

from sqlalchemy import Connection

RUN_COLUMNS = "status, attempts, duration_ms, created_at, agent, tenant_id"
CALL_COLUMNS = (
    "tenant_id, created_at, run_id, model, prompt_key, prompt_version, outcome, latency_ms, "
    "prompt_tokens, completion_tokens, repaired, reasks"
)
CALL_KEY = "tenant_id, day, agent, model, prompt_key, prompt_version"
TABLES = (
    "metric_run_days",
    "metric_run_duration_days",
    "metric_call_days",
    "metric_call_latency_days",
    "metric_review_days",
    "metric_review_hist_days",
)
REVIEW_COLUMNS = (
    "tenant_id, created_at, drafted_by, run_id, status, edit_distance, reason_code, decided_at"
)
REVIEW_KEY = "tenant_id, day, agent, prompt_key, prompt_version"
APPROVED = "('approved', 'executed', 'failed')"
SOURCES = (("runs", "agent_runs"), ("calls", "llm_calls"), ("reviews", "review_items"))
SQLITE_TRIGGERS = [
    f"trg_metric_{t}_{op}" for t, _ in SOURCES for op in ("insert", "update", "delete")
]


def _day(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"substr({column}, 1, 10) || ' 00:00:00.000000'"
    return f"date_trunc('day', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"


def _bin(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(floor(ln(max({column}, 1)) / ln(1.05)) AS INTEGER)"
    return f"floor(ln(GREATEST({column}, 1)::float8) / ln(1.05::float8))::int"


def histogram_bin(dialect: str, column: str) -> str:
    """The SQL of the histogram bin the triggers file a value under (for raw rows read beside
    the rollups, services/metrics/hybrid.py)."""
    return _bin(dialect, column)


def wait_seconds(dialect: str, start: str, end: str) -> str:
    """The SQL of the seconds from ``start`` to ``end`` the review triggers bin."""
    return _seconds(dialect, start, end)


def _apply(dialect: str, r: str, sign: str) -> str:
    """Statements adding ``sign`` times row ``r``'s contribution (SQLite NEW/OLD, PG a record)."""
    day, greatest = _day(dialect, f"{r}.created_at"), "max" if dialect == "sqlite" else "GREATEST"
    retried = f"(CASE WHEN {r}.attempts > 1 THEN 1 ELSE 0 END)"
    runs = f"""
INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, retry_attempts)
VALUES ({r}.tenant_id, {day}, {r}.agent, {r}.status, {sign}, {sign} * {retried},
        {sign} * {greatest}({r}.attempts - 1, 0))
ON CONFLICT (tenant_id, day, agent, status) DO UPDATE SET
  runs = metric_run_days.runs + excluded.runs,
  retried_runs = metric_run_days.retried_runs + excluded.retried_runs,
  retry_attempts = metric_run_days.retry_attempts + excluded.retry_attempts;
INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n)
SELECT {r}.tenant_id, {day}, {r}.agent, {_bin(dialect, f"{r}.duration_ms")}, {sign}
WHERE {r}.duration_ms IS NOT NULL
ON CONFLICT (tenant_id, day, agent, bin) DO UPDATE SET
  n = metric_run_duration_days.n + excluded.n;"""
    return runs


def _apply_call(dialect: str, r: str, sign: str) -> str:
    day = _day(dialect, f"{r}.created_at")
    agent = f"coalesce((SELECT a.agent FROM agent_runs a WHERE a.id = {r}.run_id), '')"
    repaired = f"(CASE WHEN {r}.repaired THEN 1 ELSE 0 END)"
    return f"""
INSERT INTO metric_call_days ({CALL_KEY}, outcome, calls, prompt_tokens, completion_tokens,
  latency_ms, repaired, reasks)
VALUES ({r}.tenant_id, {day}, {agent}, {r}.model, {r}.prompt_key, {r}.prompt_version,
  {r}.outcome, {sign}, {sign} * {r}.prompt_tokens, {sign} * {r}.completion_tokens,
  {sign} * {r}.latency_ms, {sign} * {repaired}, {sign} * {r}.reasks)
ON CONFLICT ({CALL_KEY}, outcome) DO UPDATE SET calls = metric_call_days.calls + excluded.calls,
  prompt_tokens = metric_call_days.prompt_tokens + excluded.prompt_tokens,
  completion_tokens = metric_call_days.completion_tokens + excluded.completion_tokens,
  latency_ms = metric_call_days.latency_ms + excluded.latency_ms,
  repaired = metric_call_days.repaired + excluded.repaired,
  reasks = metric_call_days.reasks + excluded.reasks;
INSERT INTO metric_call_latency_days ({CALL_KEY}, bin, n)
VALUES ({r}.tenant_id, {day}, {agent}, {r}.model, {r}.prompt_key, {r}.prompt_version,
  {_bin(dialect, f"{r}.latency_ms")}, {sign})
ON CONFLICT ({CALL_KEY}, bin) DO UPDATE SET n = metric_call_latency_days.n + excluded.n;"""


def _seconds(dialect: str, start: str, end: str) -> str:
    if dialect == "sqlite":
        return f"((julianday({end}) - julianday({start})) * 86400.0)"
    return f"extract(epoch from {end} - {start})"


def _apply_review(dialect: str, r: str, sign: str) -> str:
    day = _day(dialect, f"{r}.created_at")
    prompt = "(SELECT max(c.{0}) FROM llm_calls c WHERE c.run_id = " + r + ".run_id)"
    pk, pv = (
        f"coalesce({prompt.format('prompt_key')}, 'none')",
        f"coalesce({prompt.format('prompt_version')}, -1)",
    )
    edited = f"(CASE WHEN coalesce({r}.edit_distance, 0) > 0 THEN 1 ELSE 0 END)"
    key = f"{r}.tenant_id, {day}, {r}.drafted_by, {pk}, {pv}"
    wait = _seconds(dialect, f"{r}.created_at", f"{r}.decided_at")
    hist = (
        f"ON CONFLICT ({REVIEW_KEY}, measure, bin) DO UPDATE SET\n"
        "  n = metric_review_hist_days.n + excluded.n;"
    )
    return f"""
INSERT INTO metric_review_days ({REVIEW_KEY}, status, edited, reason_code, n)
VALUES ({key}, {r}.status, {edited}, coalesce({r}.reason_code, ''), {sign})
ON CONFLICT ({REVIEW_KEY}, status, edited, reason_code) DO UPDATE SET
  n = metric_review_days.n + excluded.n;
INSERT INTO metric_review_hist_days ({REVIEW_KEY}, measure, bin, n)
SELECT {key}, 'edit', {_bin(dialect, f"{r}.edit_distance")}, {sign}
WHERE {edited} = 1 AND {r}.status IN {APPROVED}
{hist}
INSERT INTO metric_review_hist_days ({REVIEW_KEY}, measure, bin, n)
SELECT {key}, 'wait', {_bin(dialect, wait)}, {sign}
WHERE {r}.decided_at IS NOT NULL
{hist}"""


def _sqlite_triggers() -> list[str]:
    out = []
    for name, table, columns, apply in (
        ("runs", "agent_runs", RUN_COLUMNS, _apply),
        ("calls", "llm_calls", CALL_COLUMNS, _apply_call),
        ("reviews", "review_items", REVIEW_COLUMNS, _apply_review),
    ):
        add, sub = apply("sqlite", "NEW", "1"), apply("sqlite", "OLD", "-1")
        out += [
            f"CREATE TRIGGER trg_metric_{name}_insert AFTER INSERT ON {table} BEGIN {add} END",
            f"CREATE TRIGGER trg_metric_{name}_update AFTER UPDATE OF {columns} ON {table} "
            f"BEGIN {sub} {add} END",
            f"CREATE TRIGGER trg_metric_{name}_delete AFTER DELETE ON {table} BEGIN {sub} END",
        ]
    return out


def _pg_triggers() -> list[str]:
    out = []
    for name, table, columns, apply in (
        ("runs", "agent_runs", RUN_COLUMNS, _apply),
        ("calls", "llm_calls", CALL_COLUMNS, _apply_call),
        ("reviews", "review_items", REVIEW_COLUMNS, _apply_review),
    ):
        out += [
            f"""CREATE FUNCTION metric_{name}_trigger() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {apply("postgresql", "OLD", "-1")}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN {apply("postgresql", "NEW", "1")}
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
            f"CREATE TRIGGER trg_metric_{name} AFTER INSERT OR DELETE OR UPDATE OF {columns} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION metric_{name}_trigger()",
        ]
    return out


def install(conn: Connection) -> None:
    """Create the rollup triggers."""
    statements = _sqlite_triggers() if conn.dialect.name == "sqlite" else _pg_triggers()
    for statement in statements:
        conn.exec_driver_sql(statement)


def drop(conn: Connection) -> None:
    """Remove the rollup triggers (the tables stay)."""
    if conn.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        return
    for name, table in SOURCES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS trg_metric_{name} ON {table}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS metric_{name}_trigger()")


def rebuild(conn: Connection) -> None:
    """Recompute every rollup from the raw rows (after a bulk load or to repair drift)."""
    d = conn.dialect.name
    for table in TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table}")
    day, cday = _day(d, "created_at"), _day(d, "c.created_at")
    retried = "CASE WHEN attempts > 1 THEN 1 ELSE 0 END"
    extra = "CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END"
    key = "c.tenant_id, cday, coalesce(r.agent, ''), c.model, c.prompt_key, c.prompt_version"
    calls = "FROM llm_calls c LEFT JOIN agent_runs r ON r.id = c.run_id"
    for statement in (
        f"INSERT INTO metric_run_days (tenant_id, day, agent, status, runs, retried_runs, "
        f"retry_attempts) SELECT tenant_id, {day}, agent, status, count(*), sum({retried}), "
        f"sum({extra}) FROM agent_runs GROUP BY 1, 2, 3, 4",
        f"INSERT INTO metric_run_duration_days (tenant_id, day, agent, bin, n) SELECT tenant_id, "
        f"{day}, agent, {_bin(d, 'duration_ms')}, count(*) FROM agent_runs "
        f"WHERE duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4",
        f"INSERT INTO metric_call_days ({CALL_KEY}, outcome, calls, prompt_tokens, "
        f"completion_tokens, latency_ms, repaired, reasks) SELECT {key}, c.outcome, count(*), "
        f"sum(c.prompt_tokens), sum(c.completion_tokens), sum(c.latency_ms), "
        f"sum(CASE WHEN c.repaired THEN 1 ELSE 0 END), sum(c.reasks) {calls} "
        f"GROUP BY 1, 2, 3, 4, 5, 6, 7",
        f"INSERT INTO metric_call_latency_days ({CALL_KEY}, bin, n) SELECT {key}, "
        f"{_bin(d, 'c.latency_ms')}, count(*) {calls} GROUP BY 1, 2, 3, 4, 5, 6, 7",
    ):
        conn.exec_driver_sql(statement.replace("cday", cday))
    _rebuild_reviews(conn)


def _rebuild_reviews(conn: Connection) -> None:
    d = conn.dialect.name
    prompts = (
        "(SELECT run_id, max(prompt_key) AS pk, max(prompt_version) AS pv FROM llm_calls "
        "WHERE run_id IS NOT NULL GROUP BY run_id)"
    )
    source = f"FROM review_items i LEFT JOIN {prompts} p ON p.run_id = i.run_id"
    key = (
        f"i.tenant_id, {_day(d, 'i.created_at')}, i.drafted_by, coalesce(p.pk, 'none'), "
        "coalesce(p.pv, -1)"
    )
    edited = "(CASE WHEN coalesce(i.edit_distance, 0) > 0 THEN 1 ELSE 0 END)"
    wait = _bin(d, _seconds(d, "i.created_at", "i.decided_at"))
    for statement in (
        f"INSERT INTO metric_review_days ({REVIEW_KEY}, status, edited, reason_code, n) "
        f"SELECT {key}, i.status, {edited}, coalesce(i.reason_code, ''), count(*) {source} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
        f"INSERT INTO metric_review_hist_days ({REVIEW_KEY}, measure, bin, n) "
        f"SELECT {key}, 'edit', {_bin(d, 'i.edit_distance')}, count(*) {source} "
        f"WHERE {edited} = 1 AND i.status IN {APPROVED} GROUP BY 1, 2, 3, 4, 5, 6, 7",
        f"INSERT INTO metric_review_hist_days ({REVIEW_KEY}, measure, bin, n) "
        f"SELECT {key}, 'wait', {wait}, count(*) {source} "
        "WHERE i.decided_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7",
    ):
        conn.exec_driver_sql(statement)
