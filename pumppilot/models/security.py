"""Sessions, devices and the audit trail."""

from datetime import datetime, timedelta
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from pumppilot.models.accounts import Role


class ClientKind(StrEnum):
    WEB = "WEB"
    MOBILE = "MOBILE"


class Session(Document):
    """A signed-in client. Tokens name it, so revoking it ends access at the next request."""

    account_id: PydanticObjectId
    role: Role
    admin_id: PydanticObjectId | None
    client: ClientKind = ClientKind.WEB
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    # Bumped at each refresh; a refresh token of an older generation means theft.
    refresh_generation: int = 0

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
    # Set by the timer once it has announced that the board fell silent; a poll clears it.
    marked_offline: bool = False
    firmware: str | None = None
    uptime_seconds: int | None = None

    def online(self, now: datetime, offline_after: timedelta) -> bool:
        """Whether the board has polled within `offline_after` of `now`."""
        return self.last_seen_at is not None and now - self.last_seen_at <= offline_after

    class Settings:
        name = "devices"
        indexes = [
            IndexModel(
                [("admin_id", ASCENDING), ("device_id", ASCENDING)],
                unique=True,
                name="tenant_device",
            ),
            IndexModel([("marked_offline", ASCENDING), ("last_seen_at", ASCENDING)], name="silent"),
        ]


class AuditEntry(Document):
    """Who did what, when and from where. `admin_id` is the tenant it concerns, if any."""

    admin_id: PydanticObjectId | None
    actor_id: PydanticObjectId | None
    actor_role: Role | None = None
    action: str
    target: str | None = None
    detail: str | None = None
    client_address: str | None = None
    at: datetime

    class Settings:
        name = "audit_log"
        indexes = [IndexModel([("admin_id", ASCENDING), ("at", DESCENDING)], name="tenant_audit")]


class LoginThrottle(Document):
    """Failed logins counted per identifier and per client address."""

    key: str
    failures: int = 0
    locked_until: datetime | None = None
    updated_at: datetime

    class Settings:
        name = "login_throttle"
        indexes = [IndexModel([("key", ASCENDING)], unique=True, name="key")]
