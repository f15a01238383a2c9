"""Beanie documents, one per collection. No rules live here: those are in `engines`."""

from beanie import Document

from pumppilot.models.accounts import Admin, PendingEntry, Role, User
from pumppilot.models.presence import WorkerPresence
from pumppilot.models.runs import (
    ACTIVE_STATUSES,
    EndReason,
    HoldReason,
    HoldSpan,
    Run,
    RunStatus,
    status_fields,
)
from pumppilot.models.security import AuditEntry, ClientKind, Device, LoginThrottle, Session
from pumppilot.models.wallet import (
    LedgerEntry,
    LedgerKind,
    MinuteRequest,
    MinuteRequestStatus,
    UsageRecord,
)

DOCUMENT_MODELS: tuple[type[Document], ...] = (
    Admin,
    User,
    Run,
    UsageRecord,
    MinuteRequest,
    Session,
    Device,
    LedgerEntry,
    AuditEntry,
    LoginThrottle,
    WorkerPresence,
)

__all__ = [
    "ACTIVE_STATUSES",
    "DOCUMENT_MODELS",
    "Admin",
    "AuditEntry",
    "ClientKind",
    "Device",
    "EndReason",
    "HoldReason",
    "HoldSpan",
    "LedgerEntry",
    "LedgerKind",
    "LoginThrottle",
    "MinuteRequest",
    "MinuteRequestStatus",
    "PendingEntry",
    "Role",
    "Run",
    "RunStatus",
    "Session",
    "UsageRecord",
    "User",
    "WorkerPresence",
    "status_fields",
]
