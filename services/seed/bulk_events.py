"""Bulk rows for investigation events: every source, fifty services, over 90 days."""

from __future__ import annotations

import hashlib

from services.seed.bulk_plan import BulkPlan, Row, Ts, expand
from services.seed.vocab import words

SOURCES = (("git", 20), ("ci", 20), ("logs", 25), ("metrics", 20), ("traces", 12), ("manual", 3))
EVENT_TYPES = {
    "git": "commit",
    "ci": "deploy",
    "logs": "error_spike",
    "metrics": "anomaly",
    "traces": "slow_span",
    "manual": "note",
}
BASES = words("checkout payments search auth inventory shipping pricing catalog tax billing")
SERVICES = tuple(
    f"{base}-{kind}" for base in BASES for kind in words("api worker gateway db cache")
)


EVENT_COLUMNS = words(
    "tenant_id source type occurred_at ingested_at severity service title data payload_hash "
    "external_id"
)
AUTHORS = words("amelia.schneider noah.okafor priya.kaur jonas.weber mei.sato omar.haddad")


def _event_doc(source: str, key: str, service: str, v: int, author: str) -> tuple[str, str]:
    """Title and JSON data of one event (f-strings: json.dumps is the slow part otherwise)."""
    if source == "git":
        sha = hashlib.sha1(key.encode()).hexdigest()
        data = f'{{"sha": "{sha}", "author": "{author}", "branch": "main", "files": {v % 9 + 1}}}'
        return f"{sha[:7]} Update {service} handlers", data
    if source == "ci":
        data = '{"job": "deploy", "status": "passed", "environment": "production", '
        return f"deploy v2.{v % 90}.{v % 7} to production", data + f'"duration_s": {v % 900}}}'
    if source == "logs":
        data = f'{{"level": "ERROR", "logger": "{service}", "count": {v}, "baseline": 12}}'
        return f"{v} x upstream request timeout", data
    if source == "metrics":
        data = f'{{"metric": "http_5xx_rate", "value": {v / 100}, "baseline": 1.2, "z_score": 4.1}}'
        return f"http_5xx_rate at {v / 100} (baseline 1.2)", data
    if source == "traces":
        trace = hashlib.md5(key.encode()).hexdigest()  # an id, not security
        data = f'{{"trace_id": "{trace}", "span": "GET /{service}", "duration_ms": {v}, '
        return f"GET /{service} took {v} ms", data + '"p99_ms": 450}'
    return (
        f"Note on {service}",
        f'{{"author": "{author}", "text": "Checked {service} dashboards."}}',
    )


def event_rows(plan: BulkPlan, ts: Ts, start: int, stop: int, total: int) -> list[Row]:
    """Events [start, stop) of total from every source across 50 services."""
    rng, tid = plan.rng, plan.tenant_id
    sources = expand(SOURCES)
    severities = ("low", "medium", "medium", "high", "high", "critical")
    quiet = {"git", "ci", "manual"}
    rand = rng.random
    sha256 = hashlib.sha256
    rows = []
    for i in range(start, stop):
        source = sources[int(rand() * 100)]
        service = SERVICES[int(rand() * len(SERVICES))]
        occurred = plan.time_at(i, total)
        external_id = f"{plan.batch}-{i:09d}"
        author = AUTHORS[i % len(AUTHORS)]
        title, data = _event_doc(source, external_id, service, int(rand() * 10_000), author)
        rows.append(
            (
                tid,
                source,
                EVENT_TYPES[source],
                ts(occurred),
                ts(occurred + 1 + rand() * 90),
                "info" if source in quiet else severities[int(rand() * 6)],
                service,
                title,
                data,
                sha256(data.encode()).hexdigest(),
                external_id,
            )
        )
    return rows
