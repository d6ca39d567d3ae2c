"""Reading a tenant's review policy from its settings: defaults fill the gaps, and bad values
(wrong kinds, unknown roles, non-finite or out-of-range numbers) raise ValueError naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from domain.enums import ReviewKind, Role
from domain.review_policy import ReviewPolicy


def _kind_map(raw: object, name: str) -> dict[ReviewKind, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{name} must be a mapping of review kind to value")
    try:
        return {ReviewKind(k): v for k, v in raw.items()}
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


MAX_HOURS = 24 * 366 * 5  # five years
MAX_AMOUNT = 1e15


def _number(value: object, name: str) -> float:
    """A finite number from JSON input; ValueError naming the field otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _hours(raw: object, name: str) -> dict[ReviewKind, float]:
    values = {k: _number(v, f"{name}.{k.value}") for k, v in _kind_map(raw, name).items()}
    for kind, hours in values.items():
        if not 0 < hours <= MAX_HOURS:
            raise ValueError(f"{name}.{kind.value} must be between 0 and {MAX_HOURS} hours")
    return values


def _flags(raw: object, name: str) -> dict[ReviewKind, bool]:
    values = _kind_map(raw, name)
    for kind, flag in values.items():
        if not isinstance(flag, bool):
            raise ValueError(f"{name}.{kind.value} must be true or false, not {flag!r}")
    return values


def _roles(raw: object, kind: ReviewKind) -> frozenset[Role]:
    if not isinstance(raw, list | tuple | set | frozenset):
        raise ValueError(f"deciders.{kind.value} must be a list of roles")
    roles = set()
    for name in raw:
        try:
            roles.add(Role(name))
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise ValueError(
                f"deciders.{kind.value}: unknown role {name!r} (roles are {known})"
            ) from exc
    if not roles:
        raise ValueError(f"deciders.{kind.value}: at least one role must decide these items")
    return frozenset(roles)


def _count(raw: Mapping[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a whole number")
    try:
        number = int(value)
    except (ValueError, OverflowError) as exc:  # "NaN", "soon", non-finite floats
        raise ValueError(f"{name} must be a whole number, not {value!r}") from exc
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def policy_from_settings(settings: Mapping[str, Any] | None) -> ReviewPolicy:
    """The policy a tenant's settings describe, defaults filling the gaps; ValueError if bad."""
    raw = dict((settings or {}).get("review_policy") or {})
    base = ReviewPolicy()
    deciders = dict(base.deciders)
    if "deciders" in raw:
        deciders.update(
            {k: _roles(v, k) for k, v in _kind_map(raw["deciders"], "deciders").items()}
        )
    limits = dict(base.four_eyes_limits)
    if "four_eyes_limits" in raw:
        for kind, value in _kind_map(raw["four_eyes_limits"], "four_eyes_limits").items():
            if value is None:
                limits.pop(kind, None)
                continue
            amount = _number(value, f"four_eyes_limits.{kind.value}")
            if not 0 <= amount <= MAX_AMOUNT:
                raise ValueError(
                    f"four_eyes_limits.{kind.value} must be between 0 and {MAX_AMOUNT:,.0f}"
                )
            limits[kind] = amount
    cadence = _count(raw, "dunning_cadence_days", base.dunning_cadence_days)
    outreach_days = _count(raw, "outreach_cadence_days", base.outreach_cadence_days)
    outreach_limit = _count(raw, "outreach_daily_limit", base.outreach_daily_limit)
    sla = {**base.sla_hours, **_hours(raw.get("sla_hours", {}), "sla_hours")}
    expiry = {**base.expiry_hours, **_hours(raw.get("expiry_hours", {}), "expiry_hours")}
    self_ok = _flags(raw.get("triggerer_may_approve", {}), "triggerer_may_approve")
    expire = {**base.auto_expire, **_flags(raw.get("auto_expire", {}), "auto_expire")}
    return ReviewPolicy(
        deciders=deciders,
        four_eyes_limits=limits,
        dunning_cadence_days=cadence,
        outreach_cadence_days=outreach_days,
        outreach_daily_limit=outreach_limit,
        sla_hours=sla,
        expiry_hours=expiry,
        triggerer_may_approve={k: v for k, v in self_ok.items() if v},
        auto_expire=expire,
    )
