"""The Prompts page's service: keys and versions, a diff between two versions, a validated new
version from an edit, rollback, and per version the outcomes of what it drafted."""

from __future__ import annotations

import difflib
import json
import math
import string
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select

from domain.enums import LLMOutcome
from domain.models import LLMCall
from services import prompts
from services.actor import Actor
from services.errors import InvalidInput, NotFound
from services.metrics.filters import MetricsFilter
from services.metrics.reviews import outcomes
from services.permissions import Action, require
from services.prompts import USER_MARKER, PromptRead
from services.uow import UnitOfWork

MAX_TEMPLATE = 20_000
MAX_PARAMETERS = 2_000
STATS_DAYS = 400  # the longest range the metrics filter allows


class PromptKeyRead(BaseModel):
    key: str
    active_version: int | None
    versions: list[PromptRead]


class VersionStats(BaseModel):
    version: int
    runs: int = 0
    calls: int = 0
    invalid_rate: float | None = None
    drafts: int = 0
    approval_rate: float | None = None
    edit_rate: float | None = None
    median_edit_distance: float | None = None


class TemplateCheck(BaseModel):
    fields: list[str]
    unused_inputs: list[str]


def list_keys(*, actor: Actor) -> list[PromptKeyRead]:
    """Every prompt key with its active version and all its versions, newest first."""
    by_key: dict[str, list[PromptRead]] = {}
    for p in prompts.list_prompts(actor=actor):
        by_key.setdefault(p.key, []).append(p)
    return [
        PromptKeyRead(
            key=k,
            active_version=next((v.version for v in vs if v.is_active), None),
            versions=vs,
        )
        for k, vs in sorted(by_key.items())
    ]


def _version(actor: Actor, key: str, version: int) -> PromptRead:
    for p in prompts.list_prompts(actor=actor, key=key):
        if p.version == version:
            return p
    raise NotFound(f"Prompt {key!r} has no version {version}.")


def diff(*, actor: Actor, key: str, old: int, new: int) -> str:
    """A unified diff of two versions' templates and parameters ("" when they are the same)."""
    a, b = _version(actor, key, old), _version(actor, key, new)

    def lines(p: PromptRead) -> list[str]:
        params = json.dumps(p.parameters, sort_keys=True, indent=2)
        return [*p.template.splitlines(), "", "=== parameters ===", *params.splitlines()]

    return "\n".join(
        difflib.unified_diff(lines(a), lines(b), f"{key} v{old}", f"{key} v{new}", lineterm="", n=2)
    )


def agent_inputs(key: str) -> set[str]:
    """The fields the agent behind a key fills in (those its shipped template uses)."""
    shipped = [f for f in prompts.repo_prompts() if f.key == key]
    if not shipped:
        raise NotFound(f"There is no prompt {key!r}.")
    return set(_fields(max(shipped, key=lambda f: f.version).template))


def _fields(template: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(
            f"The template has a stray brace ({exc}); write {{{{ or }}}} for a literal brace."
        ) from exc
    names = []
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise InvalidInput(
                f"Template field {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not a plain {{name}}; write {{{{ for a "
                "literal brace."
            )
        if name not in names:
            names.append(name)
    return names


def check_template(*, key: str, template: str) -> TemplateCheck:
    """Validate an edited template against the agent's inputs; InvalidInput says what is wrong."""
    if "\x00" in template:
        raise InvalidInput("The template contains a NUL character.")
    if len(template) > MAX_TEMPLATE:
        raise InvalidInput(f"A template may hold at most {MAX_TEMPLATE:,} characters.")
    system, marker, user = template.partition(USER_MARKER)
    if not marker or not system.strip() or not user.strip():
        raise InvalidInput(
            "A template needs a system part and a user part separated by a line "
            "'=== user ===' with a blank line on either side."
        )
    fields = _fields(template)
    inputs = agent_inputs(key)
    unknown = [f for f in fields if f not in inputs]
    if unknown:
        raise InvalidInput(
            f"The agent behind {key} has no input named {', '.join(sorted(unknown))}; "
            f"it provides {', '.join(sorted(inputs))}."
        )
    return TemplateCheck(fields=fields, unused_inputs=sorted(inputs - set(fields)))


def parse_parameters(text: str) -> dict[str, Any]:
    """Model parameters from the JSON an admin typed: an object of finite numbers and words."""
    if len(text) > MAX_PARAMETERS:
        raise InvalidInput(f"Parameters may hold at most {MAX_PARAMETERS:,} characters.")
    try:
        value = json.loads(text or "{}", parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"The parameters are not valid JSON: {exc}.") from exc
    if not isinstance(value, dict):
        raise InvalidInput('The parameters must be a JSON object, e.g. {"temperature": 0.3}.')
    for name, v in value.items():
        if not isinstance(v, (int, float, str, bool)) or (
            isinstance(v, float) and not math.isfinite(v)
        ):
            raise InvalidInput(f"Parameter {name!r} must be a number, a word or true/false.")
    temperature = value.get("temperature", 0)
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not (0 <= temperature <= 2)
    ):
        raise InvalidInput("temperature must be a number from 0 to 2.")
    tokens = value.get("max_tokens", 1)
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= 32_768:
        raise InvalidInput("max_tokens must be a whole number from 1 to 32768.")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number")


def new_version(*, actor: Actor, key: str, template: str, parameters_json: str) -> PromptRead:
    """Save an edit as a new inactive version after checking it against the agent's inputs."""
    require(actor, Action.MANAGE_PROMPTS)
    check_template(key=key, template=template)
    return prompts.create_version(
        actor=actor, key=key, template=template, parameters=parse_parameters(parameters_json)
    )


def rollback(*, actor: Actor, key: str) -> PromptRead:
    """Activate the version just below the active one."""
    versions = prompts.list_prompts(actor=actor, key=key)
    active = next((p for p in versions if p.is_active), None)
    older = [p for p in versions if active is None or p.version < active.version]
    if not older:
        raise InvalidInput(f"{key} has no older version to roll back to.")
    return prompts.activate(actor=actor, prompt_id=older[0].id)


def version_stats(*, actor: Actor, key: str, now: datetime) -> list[VersionStats]:
    """Per version of a key: runs, invalid-output rate, and what reviewers did with its drafts."""
    require(actor, Action.MANAGE_PROMPTS)
    window = MetricsFilter(start=now - timedelta(days=STATS_DAYS), end=now, prompt_key=key)
    with UnitOfWork(actor, readonly=True) as uow:
        calls = uow.session.execute(
            select(
                LLMCall.prompt_version,
                func.count(func.distinct(LLMCall.run_id)),
                func.count(),
                func.count(case((LLMCall.outcome == LLMOutcome.INVALID, 1))),
            )
            .where(LLMCall.prompt_key == key, LLMCall.created_at >= window.start)
            .group_by(LLMCall.prompt_version)
        ).all()
        reviews = {
            r.prompt_version: r
            for r in outcomes(uow.session, actor.tenant_id, window)
            if r.prompt_key == key
        }
    out = []
    for version, n_runs, n_calls, invalid in calls:
        if version is None:
            continue
        r = reviews.get(version)
        approved = (r.approved_as_drafted + r.edited_then_approved) if r else 0
        out.append(
            VersionStats(
                version=version,
                runs=n_runs,
                calls=n_calls,
                invalid_rate=invalid / n_calls if n_calls else None,
                drafts=r.drafts if r else 0,
                approval_rate=r.approval_rate if r else None,
                edit_rate=r.edited_then_approved / approved if r and approved else None,
                median_edit_distance=r.median_edit_distance if r else None,
            )
        )
    return sorted(out, key=lambda s: -s.version)
