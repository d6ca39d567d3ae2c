"""What an event says, read the same way whichever source sent it (no I/O).

Sources name the same facts differently (a deploy's commit is ``commit``, ``commit_sha`` or
``sha``; a spike counts ``errors_at_onset`` or ``count``); correlation reads them here only.
"""

from __future__ import annotations

from typing import Any, Protocol

from domain.enums import EventSeverity, EventSource

CHANGE_TYPES = ("commit", "merge", "deploy", "build", "rollback")
SYMPTOM_TYPES = ("error_spike", "metric_anomaly", "anomaly")
SYMPTOM_SEVERITIES = (EventSeverity.MEDIUM, EventSeverity.HIGH, EventSeverity.CRITICAL)
FAILED = {"failed", "failure", "error", "errored"}
ROLLED_BACK = {"rolled_back", "rolledback", "rollback", "reverted"}
PRODUCTION = {"production", "prod", "live"}
PRE_PRODUCTION = {"staging", "stage", "canary", "qa", "test", "dev", "development", "preview"}
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc")


class EventLike(Protocol):
    source: EventSource
    type: str
    service: str | None
    severity: EventSeverity
    data: dict[str, Any]


def is_change(event: EventLike) -> bool:
    """A commit, merge, build, deploy or rollback from git or CI."""
    return event.type in CHANGE_TYPES and event.source in (EventSource.GIT, EventSource.CI)


def is_symptom(event: EventLike) -> bool:
    """An error spike or metric anomaly of some severity: what an onset is made of."""
    return event.type in SYMPTOM_TYPES and event.severity in SYMPTOM_SEVERITIES


def sha(event: EventLike) -> str | None:
    """The commit an event is about (a commit's own sha, the commit a build or deploy ran)."""
    keys = ("sha",) if event.source is EventSource.GIT else ("commit", "commit_sha", "sha")
    for key in keys:
        value = event.data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None


def files(event: EventLike) -> list[str]:
    """The files a commit touched (as strings, whatever was sent)."""
    raw = event.data.get("files") if event.source is EventSource.GIT else None
    return [str(f) for f in raw[:500]] if isinstance(raw, list) else []


def only_tests_or_docs(paths: list[str]) -> bool:
    """True when every touched file is a test or documentation (nothing that runs changed)."""

    def harmless(path: str) -> bool:
        low = path.lower()
        name = low.rsplit("/", 1)[-1]
        return (
            low.startswith(("docs/", "doc/", "tests/", "test/"))
            or "/docs/" in low
            or "/tests/" in low
            or name.startswith("test_")
            or name.endswith(_DOC_SUFFIXES)
        )

    return bool(paths) and all(harmless(p) for p in paths)


def environment(event: EventLike) -> str | None:
    """Where a deploy ran, lower-cased (``production``, ``staging``, ``canary`` …), if said."""
    for key in ("environment", "env", "target"):
        value = event.data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return None


def is_production(env: str | None) -> bool | None:
    """True for production, False for staging/canary and the like, None when unknown."""
    if env is None:
        return None
    if env in PRODUCTION:
        return True
    if env in PRE_PRODUCTION or env.startswith(("canary", "staging", "preview")):
        return False
    return None


def outcome(event: EventLike) -> str | None:
    """``failed`` or ``rolled back`` for a deploy or build that did not simply pass."""
    status = str(event.data.get("status") or "").strip().lower()
    if event.type == "rollback" or status in ROLLED_BACK or event.data.get("rolled_back") is True:
        return "rolled back"
    if status in FAILED:
        return "failed"
    return None


def status_text(event: EventLike) -> str | None:
    """The status as sent, for the reason text."""
    status = event.data.get("status")
    return str(status)[:40] if status else None


def spike_text(event: EventLike) -> str:
    """'42 errors/min vs baseline 1.5' from either shape a spike arrives in."""
    d = event.data
    if "errors_at_onset" in d or "baseline_per_minute" in d:
        return (
            f"{d.get('errors_at_onset', '?')} errors/min vs baseline "
            f"{d.get('baseline_per_minute', '?')}"
        )
    if "count" in d:
        return f"{d.get('count')} errors vs baseline {d.get('baseline', '?')}"
    return "errors above their baseline"
