"""Admins (each admin is a tenant; the master admin runs the platform) and their users."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel


class Role(StrEnum):
    MASTER = "MASTER"
    ADMIN = "ADMIN"
    USER = "USER"


class Admin(Document):
    """A master admin or a tenant's admin. An admin's id is the tenant id."""

    identifier: str
    name: str
    password_hash: str
    role: Role = Role.ADMIN
    suspended: bool = False
    created_at: datetime
    # Bumped on every queue transition: devices use it to spot stale or reordered answers.
    queue_version: int = 0
    # Hands out WAITING tickets in request order.
    ticket_counter: int = 0
    # Tenant settings, changed by the tenant's admin.
    min_start_minutes: int = 1
    manual_hold: bool = False

    class Settings:
        name = "admins"
        indexes = [IndexModel([("identifier", ASCENDING)], unique=True, name="identifier")]


class PendingEntry(BaseModel):
    """A balance change written to the user but not yet to the ledger.

    The balance and this note change in one atomic write; the ledger entry follows. A
    process killed in between leaves the note, and whoever touches the wallet next (or
    the timer's sweep) finishes the entry, so the ledger never misses a change.
    """

    ref: str
    kind: str
    seconds: int
    balance_after: int
    actor_id: PydanticObjectId | None
    reason: str
    created_at: datetime


class User(Document):
    """A person bound to one tenant who holds prepaid seconds and runs the pump."""

    admin_id: PydanticObjectId
    identifier: str
    name: str
    password_hash: str
    balance_seconds: int = 0
    pending_entry: PendingEntry | None = None
    suspended: bool = False
    rfid_card: str | None = None
    created_at: datetime

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("identifier", ASCENDING)], unique=True, name="identifier"),
            IndexModel([("admin_id", ASCENDING), ("name", ASCENDING)], name="tenant_users"),
            IndexModel(
                [("pending_entry.ref", ASCENDING)],
                name="pending_entries",
                partialFilterExpression={"pending_entry.ref": {"$exists": True}},
            ),
            IndexModel(
                [("admin_id", ASCENDING), ("rfid_card", ASCENDING)],
                unique=True,
                name="tenant_rfid_card",
                partialFilterExpression={"rfid_card": {"$type": "string"}},
            ),
        ]
