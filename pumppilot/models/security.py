"""Sessions, devices and the audit trail."""

from datetime import datetime

from beanie import Document, PydanticObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from pumppilot.models.accounts import Role


class Session(Document):
    """A signed-in client. Tokens name it, so revoking it ends access at the next request."""

    account_id: PydanticObjectId
    role: Role
    admin_id: PydanticObjectId | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    class Settings:
        name = "mobile_sessions"
        indexes = [IndexModel([("account_id", ASCENDING)], name="account_sessions")]


class Device(Document):
    """A pump controller board. Its key is shown once; only a hash of it is stored."""

    admin_id: PydanticObjectId
    device_id: str
    name: str
    key_hash: str
    created_at: datetime
    revoked: bool = False
    last_seen_at: datetime | None = None
    load_shedding: bool | None = None
    ready: bool | None = None
    output_on: bool | None = None

    class Settings:
        name = "devices"
        indexes = [
            IndexModel(
                [("admin_id", ASCENDING), ("device_id", ASCENDING)],
                unique=True,
                name="tenant_device",
            )
        ]


class AuditEntry(Document):
    admin_id: PydanticObjectId | None
    actor_id: PydanticObjectId | None
    action: str
    target: str | None = None
    client_address: str | None = None
    at: datetime

    class Settings:
        name = "audit_log"
        indexes = [IndexModel([("admin_id", ASCENDING), ("at", DESCENDING)], name="tenant_audit")]
