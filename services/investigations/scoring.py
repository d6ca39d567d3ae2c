"""One candidate's score for an investigation, as named parts with their reasons (no I/O).

The parts: where the event belongs (the affected service, or one it depends on weighed by that
service's own symptoms), how long before the symptoms began it happened, what kind of change or
signal it is (a failed deploy outranks a passing build; a deploy carries its commits), where it
ran (production above staging or canary), its severity, and what this tenant's earlier accept
and reject decisions taught about events of its kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain.enums import EventSeverity
from services.investigations import signals
from services.investigations.signals import EventLike

SEVERITY_POINTS = {
    EventSeverity.CRITICAL: 0.10,
    EventSeverity.HIGH: 0.07,
    EventSeverity.MEDIUM: 0.04,
}
KNEE = 0.8
SIGNAL_POINTS = {
    "error_spike": 0.20,
    "metric_anomaly": 0.15,
    "anomaly": 0.15,
    "span_failed": 0.05,
    "slow_span": 0.05,
    "test_failure": 0.05,
    "log_error": 0.05,
}


class Scored(EventLike, Protocol):
    id: int
    occurred_at: datetime
    title: str


@dataclass(frozen=True)
class Scope:
    """A service in the investigation's reach: its distance and how much its evidence weighs."""

    depth: int
    weight: float
    why: str


@dataclass
class Shipped:
    """The deploy that shipped a commit (for commits) or the commits a deploy carried."""

    deploy: Any | None = None
    commits: list[Any] = field(default_factory=list)


@dataclass
class Context:
    service: str | None
    detected: datetime
    scope: dict[str, Scope]
    onset: datetime | None = None
    onset_what: str = ""
    window: timedelta = timedelta(hours=24)
    paths: list[tuple[str, str]] = field(default_factory=list)
    chains: dict[int, Shipped] = field(default_factory=dict)
    learned: dict[str, tuple[int, int]] = field(default_factory=dict)
    stored: dict[int, tuple[str | None, float | None]] = field(default_factory=dict)
    component: str | None = None  # files under a folder of this name belong to `service`


def ago(delta: timedelta) -> str:
    """'15 minutes' or '3 h 20 min' or '2 d 4 h' for a time difference."""
    minutes = round(abs(delta.total_seconds()) / 60)
    if minutes >= 48 * 60:
        days, hours = minutes // 1440, minutes % 1440 // 60
        return f"{days} d {hours} h" if hours else f"{days} d"
    if minutes >= 120:
        return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"
    return f"{minutes} minutes"


def touched(event: EventLike, ctx: Context, known: set[str] | None = None) -> set[str]:
    """The services whose code or configuration a commit touched (path map, then ``svc/``)."""
    paths = signals.files(event)
    if not paths:
        return set()
    repo = str(event.data.get("repo") or "").strip("/")
    names = set(ctx.scope) | (known or set())
    out: set[str] = set()
    for path in paths:
        path = path.lstrip("/")
        full = f"{repo}/{path}" if repo else path
        mapped = [(p, s) for p, s in ctx.paths if path.startswith(p) or full.startswith(p)]
        if mapped:
            out.add(max(mapped, key=lambda m: len(m[0]))[1])
            continue
        head = path.split("/", 1)[0]
        if head in names:
            out.add(head)
        elif ctx.component and ctx.service and ctx.component in path.split("/")[:-1]:
            out.add(ctx.service)
    return out


def concerns(event: EventLike, ctx: Context) -> set[str]:
    """Every service the event is about: its own, the files it touched, what a deploy carried."""
    out = {event.service} if event.service else set()
    out |= touched(event, ctx)
    chain = ctx.chains.get(getattr(event, "id", 0))
    if chain is not None:
        for commit in chain.commits:
            out |= touched(commit, ctx) | ({commit.service} if commit.service else set())
    return out


def _relation(event: Scored, ctx: Context) -> tuple[float, str | None]:
    if not ctx.scope:
        return 0.0, None
    mine = {event.service} if event.service else set()
    files = touched(event, ctx)
    best: tuple[float, str | None] = (0.0, None)
    for name in sorted(concerns(event, ctx) & set(ctx.scope)):
        s = ctx.scope[name]
        if s.depth == 0 and name in mine:
            text = f"same service ({name})"
        elif s.depth == 0 and name in files:
            text = f"touches {name} files"
        elif s.depth == 0:
            text = f"ships a change to {name}"
        else:
            text = s.why
        points = 0.30 * s.weight
        if points > best[0]:
            best = (points, text)
    return best


def _timing(event: Scored, ctx: Context, change: bool) -> tuple[float, str]:
    half = max(timedelta(hours=1), ctx.window / 12)
    detected_gap = ctx.detected - event.occurred_at
    if detected_gap < timedelta(0):
        return (0.0 if change else 0.05), f"{ago(detected_gap)} after detection"
    if ctx.onset is None:
        return 0.30 * 0.5 ** (detected_gap / half), f"{ago(detected_gap)} before detection"
    gap = ctx.onset - event.occurred_at
    tail = f"{ago(detected_gap)} before detection"
    if gap == timedelta(0) and not change:
        return 0.30, f"where the symptoms began ({ctx.onset_what}), {tail}"
    if gap >= timedelta(0):
        text = f"{ago(gap)} before the symptoms began ({ctx.onset_what}), {tail}"
        return 0.30 * 0.5 ** (gap / half), text
    if change:
        return 0.0, f"{ago(gap)} after the symptoms began, so it cannot have started them; {tail}"
    return 0.30 * 0.5 ** (-gap / half), f"{ago(gap)} after the symptoms began, {tail}"


def _where_ran(deploy: EventLike) -> tuple[float, str | None]:
    env = signals.environment(deploy)
    prod = signals.is_production(env)
    if prod is True:
        return 0.10, "ran in production"
    if prod is False:
        return -0.10, f"ran only in {env}"
    return 0.0, None


def _short(commit: Any) -> str:
    sha = signals.sha(commit)
    title = str(commit.title)
    if sha and title.lower().startswith(sha[:7]):
        title = title[7:].strip()
    return f"{sha[:7] if sha else '#' + str(commit.id)} '{title[:60]}'"


def _kind(event: Scored, ctx: Context) -> tuple[float, list[str]]:
    chain = ctx.chains.get(event.id)
    reasons: list[str] = []
    if event.type in ("deploy", "rollback"):
        points = 0.25
        how = signals.outcome(event)
        status = signals.status_text(event)
        reasons.append(f"deploy of {event.service}" + (f" ({status})" if status else ""))
        if how:
            points += 0.10
            reasons.append(f"a {how} deploy outranks a passing build")
        env_points, env_text = _where_ran(event)
        points += env_points
        reasons += [env_text] if env_text else []
        if chain and chain.commits:
            first, more = chain.commits[0], len(chain.commits) - 1
            extra = f" and {more} more since the previous deploy" if more else ""
            text = f"ships commit {_short(first)}{extra}"
            hits = [c for c in chain.commits if touched(c, ctx) & set(ctx.scope)]
            if all(signals.only_tests_or_docs(signals.files(c)) for c in chain.commits):
                points -= 0.10
                text += " (only tests or docs)"
            elif hits:
                points += 0.05
                names = sorted({n for c in hits for n in touched(c, ctx) & set(ctx.scope)})
                text += f", touching {', '.join(names)} files"
            reasons.append(text)
        return points, reasons
    if event.type == "build":
        how = signals.outcome(event)
        reasons.append(
            f"{how or 'passing'} build of {event.service or 'the code'}: a build ships nothing"
        )
        return (0.08 if how else 0.05), reasons
    if event.type in ("commit", "merge"):
        points = 0.15
        paths = signals.files(event)
        hit = sorted(touched(event, ctx) & set(ctx.scope))
        if signals.only_tests_or_docs(paths):
            points -= 0.10
            reasons.append(f"{event.type} touching only tests or docs")
        elif hit:
            points += 0.05
            sample = ", ".join(paths[:2]) + (" …" if len(paths) > 2 else "")
            reasons.append(f"{event.type} touching {', '.join(hit)} files ({sample})")
        else:
            reasons.append(f"{event.type} of {event.service or 'the code'}")
        if chain and chain.deploy is not None:
            d = chain.deploy
            env = signals.environment(d) or "an unnamed environment"
            anchor = ctx.onset or ctx.detected
            moment = "the symptoms began" if ctx.onset else "detection"
            if d.occurred_at <= anchor:
                when = f"{ago(anchor - d.occurred_at)} before {moment}"
                reasons.append(f"shipped by deploy #{d.id} to {env} {when}")
                env_points, _ = _where_ran(d)
                points += env_points + (0.05 if signals.outcome(d) else 0.0)
            else:
                points -= 0.05
                reasons.append(f"deployed only after {moment} (deploy #{d.id})")
        return points, reasons
    if event.type == "error_spike":
        reasons.append(f"error spike onset ({signals.spike_text(event)})")
    elif event.type in ("metric_anomaly", "anomaly"):
        reasons.append(f"{event.data.get('metric', 'metric')} outside its normal band")
    elif event.type in SIGNAL_POINTS:
        reasons.append(event.type.replace("_", " "))
    return SIGNAL_POINTS.get(event.type, 0.0), reasons


def learned_factor(kind: str, ctx: Context) -> tuple[float, str | None]:
    """The multiplier learned from the tenant's accepted and rejected events of this kind."""
    accepted, rejected = ctx.learned.get(kind, (0, 0))
    if accepted + rejected == 0:
        return 1.0, None
    factor = 0.75 + 0.5 * (accepted + 1) / (accepted + rejected + 2)
    return factor, (
        f"learned x{factor:.2f}: {accepted} of {accepted + rejected} {kind} events "
        "accepted in this organisation's earlier decisions"
    )


def score(event: Scored, ctx: Context) -> tuple[float, list[str], str]:
    """The event's score, the reasons that make it up, and the rule that produced it."""
    change = signals.is_change(event)
    rel, rel_text = _relation(event, ctx)
    reasons = [rel_text] if rel_text else []
    timing, timing_text = _timing(event, ctx, change)
    reasons.append(timing_text)
    kind, kind_reasons = _kind(event, ctx)
    reasons += kind_reasons
    points = rel + timing + kind
    if event.severity in SEVERITY_POINTS:
        points += SEVERITY_POINTS[event.severity]
        reasons.append(f"severity {event.severity.value}")
    factor, learned_text = learned_factor(event.type, ctx)
    if learned_text:
        reasons.append(learned_text)
    stored = ctx.stored.get(event.id)
    if stored is not None:
        rule, value = stored
        shown = f" with score {value:.2f}" if value is not None else ""
        reasons.append(f"suggested by rule {rule or 'unnamed'}{shown}")
    total = max(0.0, points) * factor
    if total > KNEE:  # above the knee, squeeze towards 1 instead of cutting off: order survives
        total = KNEE + (1 - KNEE) * (1 - math.exp(-(total - KNEE) / (1 - KNEE)))
    return round(total, 3), reasons, ("suspect_change" if change else "correlation")


def in_scope(event: Scored, ctx: Context) -> bool:
    """Whether the event belongs to the investigation's services at all."""
    if not ctx.scope:
        return True
    return bool(concerns(event, ctx) & set(ctx.scope))


__all__ = ["Context", "Scope", "Shipped", "ago", "in_scope", "score", "touched"]
