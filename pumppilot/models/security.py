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


def seen_within(last_seen_at: datetime | None, now: datetime, offline_after: timedelta) -> bool:
    """Whether a board last seen at `last_seen_at` counts as online at `now`."""
    return last_seen_at is not None and now - last_seen_at <= offline_after


class Device(Document):
    """A pump controller board. Its key is shown once; only a hash of it is stored."""

    admin_id: PydanticObjectId
    device_id: str
    # "<tenant id>/<device id>": unique, and one field, because the embedded store checks a
    # unique index of one field through a lookup but one of several fields by a full scan,
    # on every write to any board.
    board_key: str
    name: str
    key_hash: str
    created_at: datetime
    revoked: bool = False
    # A durable copy that lags the board's polls; ask `pumppilot.presence` whether it is
    # online.
    last_seen_at: datetime | None = None
    load_shedding: bool | None = None
    ready: bool | None = None
    output_on: bool | None = None
    # Set by the timer once it has announced that the board fell silent; a poll clears it.
    marked_offline: bool = False
    firmware: str | None = None
    uptime_seconds: int | None = None

    @staticmethod
    def key_of(admin_id: PydanticObjectId, device_id: str) -> str:
        return f"{admin_id}/{device_id}"

    class Settings:
        name = "devices"
        indexes = [
            IndexModel([("board_key", ASCENDING)], unique=True, name="board_key"),
            IndexModel([("admin_id", ASCENDING)], name="tenant_boards"),
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
