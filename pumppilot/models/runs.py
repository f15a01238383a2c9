"""A run is one user's entry in a tenant's queue, from request to its end."""

from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel


class RunStatus(StrEnum):
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    HOLD = "HOLD"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


ACTIVE_STATUSES = frozenset({RunStatus.RUNNING, RunStatus.HOLD})
OPEN_STATUSES = ACTIVE_STATUSES | {RunStatus.WAITING}


class EndReason(StrEnum):
    STOPPED_BY_USER = "STOPPED_BY_USER"
    STOPPED_BY_ADMIN = "STOPPED_BY_ADMIN"
    BALANCE_EXHAUSTED = "BALANCE_EXHAUSTED"
    DURATION_REACHED = "DURATION_REACHED"
    SUSPENDED = "SUSPENDED"
    LEFT_QUEUE = "LEFT_QUEUE"


class HoldReason(StrEnum):
    """Why an active run is paused; listed from the strongest to the weakest."""

    ADMIN_HOLD = "ADMIN_HOLD"
    DEVICE_OFFLINE = "DEVICE_OFFLINE"
    LOAD_SHEDDING = "LOAD_SHEDDING"
    DEVICE_NOT_READY = "DEVICE_NOT_READY"


class HoldSpan(BaseModel):
    reason: HoldReason
    started_at: datetime
    ended_at: datetime | None = None


class StatusFields(TypedDict):
    status: RunStatus
    active: bool
    open: bool


def status_fields(status: RunStatus) -> StatusFields:
    """The status with the flags the unique indexes filter on, always written together.

    The flags exist because a partial index filter portable to MongoDB 7 is safest as a
    plain equality; they are never set on their own.
    """
    return {
        "status": status,
        "active": status in ACTIVE_STATUSES,
        "open": status in OPEN_STATUSES,
    }


class Run(Document):
    admin_id: PydanticObjectId
    user_id: PydanticObjectId
    user_name: str
    status: RunStatus
    active: bool
    open: bool
    # Order of the request within the tenant; the shown position is the rank among WAITING.
    ticket: int
    requested_seconds: int
    # The most it may run: the time asked for or the balance when it became active.
    limit_seconds: int = 0
    # Milliseconds spent RUNNING before `running_since`; the charge is derived from both,
    # so a restart neither loses nor double-counts time.
    accrued_ms: int = 0
    running_since: datetime | None = None
    # When a RUNNING run must end by itself; derived from the fields above at each change.
    deadline_at: datetime | None = None
    hold_reason: HoldReason | None = None
    held_since: datetime | None = None
    held_ms: int = 0
    holds: list[HoldSpan] = Field(default_factory=list)
    requested_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: EndReason | None = None
    charged_seconds: int | None = None
    # False from the moment a run is DONE until its debit and usage record are written;
    # a run left unsettled by a killed process is settled by the timer's sweep.
    settled: bool = True

    class Settings:
        name = "queues"
        indexes = [
            IndexModel(
                [("admin_id", ASCENDING), ("status", ASCENDING), ("ticket", ASCENDING)],
                name="tenant_queue_order",
            ),
            IndexModel(
                [("admin_id", ASCENDING)],
                unique=True,
                name="one_active_run_per_tenant",
                partialFilterExpression={"active": True},
            ),
            IndexModel(
                [("user_id", ASCENDING)],
                unique=True,
                name="one_open_run_per_user",
                partialFilterExpression={"open": True},
            ),
            IndexModel([("active", ASCENDING), ("admin_id", ASCENDING)], name="active_runs"),
            IndexModel(
                [("settled", ASCENDING)],
                name="unsettled_runs",
                partialFilterExpression={"settled": False},
            ),
        ]
