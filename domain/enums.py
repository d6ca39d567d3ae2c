"""Enums of the domain. Stored as their lowercase string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    REVIEWER = "reviewer"
    SDR = "sdr"
    SALES = "sales"
    FINANCE = "finance"
    VIEWER = "viewer"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


class DealStage(StrEnum):
    DISCOVERY = "discovery"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


class NegotiationParty(StrEnum):
    US = "us"
    CUSTOMER = "customer"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    SIGNED = "signed"
    CANCELLED = "cancelled"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"


class EmailStatus(StrEnum):
    SANDBOXED = "sandboxed"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class ReviewKind(StrEnum):
    OUTREACH_EMAIL = "outreach_email"
    DEAL_PROPOSAL = "deal_proposal"
    COUNTER_OFFER = "counter_offer"
    CONTRACT = "contract"
    DUNNING_NOTICE = "dunning_notice"
    RCA_HYPOTHESIS = "rca_hypothesis"
    ACTION = "action"  # a generic action an external agent holds for review (API)


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXECUTED = "executed"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ReasonCode(StrEnum):
    WRONG_FACTS = "wrong_facts"
    TONE = "tone"
    POLICY = "policy"
    DUPLICATE = "duplicate"
    NOT_NEEDED = "not_needed"
    OTHER = "other"


class AgentName(StrEnum):
    SDR = "sdr"
    SALES = "sales"
    NEGOTIATION = "negotiation"
    FINANCE = "finance"
    INVESTIGATOR = "investigator"


class RunTrigger(StrEnum):
    MANUAL = "manual"
    SCHEDULE = "schedule"
    RETRY = "retry"
    PIPELINE = "pipeline"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRYING = "retrying"
    DEAD = "dead"
    CANCELLED = "cancelled"


class LLMMode(StrEnum):
    JSON_SCHEMA = "json_schema"
    TOOLS = "tools"
    JSON = "json"


class LLMOutcome(StrEnum):
    OK = "ok"
    REPAIRED = "repaired"
    INVALID = "invalid"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class EventSeverity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class InvestigationStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    P0 = "p0"
    P1 = "p1"
    P2 = "p2"
    P3 = "p3"


class EventSource(StrEnum):
    GIT = "git"
    CI = "ci"
    LOGS = "logs"
    METRICS = "metrics"
    TRACES = "traces"
    MANUAL = "manual"


class LinkStatus(StrEnum):
    SUGGESTED = "suggested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class QuarantineStatus(StrEnum):
    PENDING = "pending"
    RESOLVED = "resolved"
    DISCARDED = "discarded"


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class ChannelKind(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    APPRISE = "apprise"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # leased by a worker
    SENT = "sent"
    DEAD = "dead"  # gave up after the last attempt
    HELD = "held"  # waiting for the recipient's daily digest
    DIGESTED = "digested"  # went out inside a digest


class DigestMode(StrEnum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"


class AlertState(StrEnum):
    OK = "ok"
    FIRING = "firing"
