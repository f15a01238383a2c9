"""The money side: an append-only ledger, usage records and requests for more minutes."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from pumppilot.models.runs import EndReason, HoldSpan


class LedgerKind(StrEnum):
    RECHARGE = "RECHARGE"
    DEBIT = "DEBIT"
    REFUND = "REFUND"
    ADJUSTMENT = "ADJUSTMENT"


class LedgerEntry(Document):
    """One change to a balance. Entries are never edited; the balance is their sum."""

    admin_id: PydanticObjectId
    user_id: PydanticObjectId
    kind: LedgerKind
    seconds: int
    balance_after: int
    actor_id: PydanticObjectId | None
    reason: str
    # What caused the entry (a run, an idempotency key); unique so a retry writes nothing.
    ref: str
    created_at: datetime

    class Settings:
        name = "wallet_ledger"
        indexes = [
            IndexModel([("admin_id", ASCENDING), ("ref", ASCENDING)], unique=True, name="ref"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user_ledger"),
        ]


class UsageRecord(Document):
    """How one run went, written once when it ends."""

    admin_id: PydanticObjectId
    user_id: PydanticObjectId
    run_id: PydanticObjectId
    date: str
    started_at: datetime | None
    ended_at: datetime
    seconds_run: int
    seconds_held: int = 0
    charged_seconds: int
    end_reason: EndReason
    holds: list[HoldSpan] = Field(default_factory=list)

    class Settings:
        name = "usage_history"
        indexes = [
            IndexModel(
                [("admin_id", ASCENDING), ("user_id", ASCENDING), ("date", ASCENDING)],
                name="tenant_user_date",
            ),
            IndexModel([("run_id", ASCENDING)], unique=True, name="one_record_per_run"),
        ]


class MinuteRequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class MinuteRequest(Document):
    admin_id: PydanticObjectId
    user_id: PydanticObjectId
    minutes: int
    note: str = ""
    status: MinuteRequestStatus = MinuteRequestStatus.PENDING
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: PydanticObjectId | None = None
    decision_note: str = ""
    # False between an approval and its recharge; see engines.minute_requests.
    credited: bool = True

    class Settings:
        name = "minute_requests"
        indexes = [
            IndexModel(
                [("admin_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
                name="tenant_requests",
            ),
            IndexModel(
                [("credited", ASCENDING)],
                name="uncredited_approvals",
                partialFilterExpression={"credited": False},
            ),
        ]
