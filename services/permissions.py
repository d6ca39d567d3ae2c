"""One permission table: which role may do which action. Checked here and nowhere else."""

from __future__ import annotations

from enum import StrEnum

from domain.enums import AgentName, Role
from services.actor import Actor
from services.errors import PermissionDenied


class Action(StrEnum):
    VIEW_HOME = "view_home"
    VIEW_REVIEW_QUEUE = "view_review_queue"
    DECIDE_REVIEW = "decide_review"
    RETRY_EXECUTION = "retry_execution"
    VIEW_METRICS = "view_metrics"
    TRIGGER_RUN = "trigger_run"
    VIEW_INVESTIGATIONS = "view_investigations"
    EDIT_INVESTIGATION = "edit_investigation"
    INGEST_EVENTS = "ingest_events"
    VIEW_AUDIT = "view_audit"
    VIEW_AUDIT_LOG = "view_audit_log"  # the tenant-wide audit log page (admin, viewer)
    VERIFY_AUDIT_FULL = "verify_audit_full"  # walk the whole audit chain from genesis (admin)
    EXPORT_FINANCE = "export_finance"
    MANAGE_USERS = "manage_users"
    MANAGE_PROMPTS = "manage_prompts"
    MANAGE_MODELS = "manage_models"
    MANAGE_POLICIES = "manage_policies"
    MANAGE_ALERTS = "manage_alerts"  # notification channels, webhooks, alert rules
    MANAGE_MY_NOTIFICATIONS = "manage_my_notifications"
    MANAGE_SCHEDULES = "manage_schedules"


A = Action
_READ = frozenset(
    {A.VIEW_HOME, A.VIEW_METRICS, A.VIEW_INVESTIGATIONS, A.VIEW_AUDIT, A.MANAGE_MY_NOTIFICATIONS}
)
_WORKER = _READ | {A.VIEW_REVIEW_QUEUE, A.DECIDE_REVIEW, A.TRIGGER_RUN}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.REVIEWER: _WORKER | {A.EDIT_INVESTIGATION},
    Role.SDR: _WORKER,
    Role.SALES: _WORKER,
    Role.FINANCE: _WORKER | {A.EXPORT_FINANCE},
    Role.VIEWER: _READ | {A.VIEW_REVIEW_QUEUE, A.VIEW_AUDIT_LOG},
}


# Which agents a role may trigger (on top of TRIGGER_RUN); admins may trigger every agent.
AGENTS_BY_ROLE: dict[Role, frozenset[AgentName]] = {
    Role.ADMIN: frozenset(AgentName),
    Role.REVIEWER: frozenset({AgentName.INVESTIGATOR}),
    Role.SDR: frozenset({AgentName.SDR}),
    Role.SALES: frozenset({AgentName.SALES, AgentName.NEGOTIATION}),
    Role.FINANCE: frozenset({AgentName.FINANCE}),
    Role.VIEWER: frozenset(),
}


def may_run(actor: Actor, agent: AgentName) -> bool:
    """Whether the actor may trigger (and so cancel or retry) runs of this agent."""
    return can(actor, Action.TRIGGER_RUN) and agent in AGENTS_BY_ROLE[actor.role]


def require_agent(actor: Actor, agent: AgentName) -> None:
    """Raise PermissionDenied unless the actor may trigger runs of this agent."""
    require(actor, Action.TRIGGER_RUN)
    if not may_run(actor, agent):
        raise PermissionDenied(f"Your role ({actor.role.value}) may not run the {agent} agent.")


# What an API token's service account may never do, whatever its role: deciding stays a
# person's act (a tenant may name an integration user; the API then decides as that person).
HUMAN_ONLY = frozenset(
    {A.DECIDE_REVIEW, A.RETRY_EXECUTION, A.MANAGE_USERS, A.MANAGE_POLICIES, A.MANAGE_PROMPTS}
)


def can(actor: Actor, action: Action) -> bool:
    """Whether the actor's role allows the action (never a person's act for a token)."""
    if actor.token_id is not None and action in HUMAN_ONLY:
        return False
    return action in PERMISSIONS[actor.role]


def require(actor: Actor, action: Action) -> None:
    """Raise PermissionDenied unless the actor's role allows the action."""
    if not can(actor, action):
        raise PermissionDenied(
            f"Your role ({actor.role.value}) may not {action.value.replace('_', ' ')}."
        )
