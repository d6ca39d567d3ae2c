"""Every model, imported in one place so the metadata is complete."""

from domain.models.api import ApiRateWindow, ApiSubmission, ApiToken
from domain.models.audit import AuditCheckpoint, AuditEntry, AuditPurge
from domain.models.identity import AuthSession
from domain.models.ingest import (
    ConnectorHealth,
    GitCursor,
    InvestigationNote,
    QuarantinedRecord,
    ServiceDependency,
)
from domain.models.investigations import Event, EventLink, Investigation
from domain.models.metrics import (
    MetricCallDay,
    MetricCallLatencyDay,
    MetricReviewDay,
    MetricReviewHistDay,
    MetricRunDay,
    MetricRunDurationDay,
)
from domain.models.notify import (
    AlertFiring,
    AlertRule,
    DeliveryAttempt,
    NotifyChannel,
    NotifyPreference,
    OutboxMessage,
)
from domain.models.pipeline import Contract, Deal, EmailMessage, Invoice, Lead, NegotiationRound
from domain.models.review import ReviewItem
from domain.models.runs import AgentRun, LLMCall, Prompt
from domain.models.schedules import Schedule, ScheduleFiring
from domain.models.tenancy import Tenant, User

__all__ = [
    "AgentRun",
    "AlertFiring",
    "AlertRule",
    "ApiRateWindow",
    "ApiSubmission",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditPurge",
    "AuthSession",
    "ConnectorHealth",
    "Contract",
    "Deal",
    "DeliveryAttempt",
    "EmailMessage",
    "Event",
    "EventLink",
    "GitCursor",
    "Investigation",
    "InvestigationNote",
    "Invoice",
    "LLMCall",
    "Lead",
    "MetricCallDay",
    "MetricCallLatencyDay",
    "MetricReviewDay",
    "MetricReviewHistDay",
    "MetricRunDay",
    "MetricRunDurationDay",
    "NegotiationRound",
    "NotifyChannel",
    "NotifyPreference",
    "OutboxMessage",
    "Prompt",
    "QuarantinedRecord",
    "ReviewItem",
    "Schedule",
    "ScheduleFiring",
    "ServiceDependency",
    "Tenant",
    "User",
]
