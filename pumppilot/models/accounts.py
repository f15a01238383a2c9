"""Admins (each admin is a tenant; the master admin runs the platform) and their users."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
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


class User(Document):
    """A person bound to one tenant who holds prepaid seconds and runs the pump."""

    admin_id: PydanticObjectId
    identifier: str
    name: str
    password_hash: str
    balance_seconds: int = 0
    suspended: bool = False
    rfid_card: str | None = None
    created_at: datetime

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("identifier", ASCENDING)], unique=True, name="identifier"),
            IndexModel([("admin_id", ASCENDING), ("name", ASCENDING)], name="tenant_users"),
            IndexModel(
                [("admin_id", ASCENDING), ("rfid_card", ASCENDING)],
                unique=True,
                name="tenant_rfid_card",
                partialFilterExpression={"rfid_card": {"$type": "string"}},
            ),
        ]
