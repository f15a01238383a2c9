"""The audit trail: security-relevant actions, who did them, when and from where."""

import logging
from enum import StrEnum

from beanie import PydanticObjectId

from pumppilot.clock import Clock
from pumppilot.engines.caller import Caller
from pumppilot.models import AuditEntry, Role

log = logging.getLogger(__name__)

MAX_PAGE = 200


class AuditAction(StrEnum):
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    REFRESH_REUSED = "REFRESH_REUSED"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"  # noqa: S105 -- an action name, not a secret
    PASSWORD_CHANGE_FAILED = "PASSWORD_CHANGE_FAILED"  # noqa: S105 -- an action name
    ADMIN_CREATED = "ADMIN_CREATED"
    USER_CREATED = "USER_CREATED"
    ADMIN_SUSPENDED = "ADMIN_SUSPENDED"
    ADMIN_REACTIVATED = "ADMIN_REACTIVATED"
    USER_SUSPENDED = "USER_SUSPENDED"
    USER_REACTIVATED = "USER_REACTIVATED"
    RECHARGE = "RECHARGE"
    BALANCE_CORRECTED = "BALANCE_CORRECTED"
    DEVICE_REGISTERED = "DEVICE_REGISTERED"
    DEVICE_KEY_ROTATED = "DEVICE_KEY_ROTATED"
    DEVICE_REVOKED = "DEVICE_REVOKED"


async def record(
    action: AuditAction,
    *,
    clock: Clock,
    actor: Caller | None = None,
    actor_id: PydanticObjectId | None = None,
    actor_role: Role | None = None,
    tenant_id: PydanticObjectId | None = None,
    target: str | None = None,
    detail: str | None = None,
    address: str | None = None,
) -> None:
    entry = AuditEntry(
        admin_id=tenant_id,
        actor_id=actor.account_id if actor is not None else actor_id,
        actor_role=actor.role if actor is not None else actor_role,
        action=action.value,
        target=target,
        detail=detail,
        client_address=actor.address if actor is not None else address,
        at=clock.now(),
    )
    await entry.insert()
    log.info("audit %s by %s on %s", action.value, entry.actor_id, target)


async def entries_for(
    tenant_id: PydanticObjectId | None,
    *,
    viewer: Role,
    limit: int,
    before: PydanticObjectId | None,
) -> list[AuditEntry]:
    """Newest first. `tenant_id` None means every entry (the master's view).

    Who the master is, and where they work from, is not the tenants' business: entries
    of the master's actions reach an admin without the master's id or address.
    """
    filters: dict[str, object] = {}
    if tenant_id is not None:
        filters["admin_id"] = tenant_id
    if before is not None:
        filters["_id"] = {"$lt": before}

    size = max(1, min(limit, MAX_PAGE))
    entries = await AuditEntry.find(filters).sort("-_id").limit(size).to_list()
    if viewer is Role.MASTER:
        return entries
    return [_without_master(entry) for entry in entries]


def _without_master(entry: AuditEntry) -> AuditEntry:
    if entry.actor_role is not Role.MASTER:
        return entry
    redacted: AuditEntry = entry.model_copy(update={"actor_id": None, "client_address": None})
    return redacted
