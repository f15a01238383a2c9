"""Suspending and reactivating users (by their admin) and tenants (by the master).

A suspension takes effect at the account's next request on every channel, because every
channel authenticates through `accounts.authenticate` or `devices.authenticate_device`,
which both read the flag. Here the flag is set, sessions end, runs end with a correct
charge, and open subscriptions are told to re-check.
"""

import logging

from beanie import PydanticObjectId

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import accounts, audit, queue
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.errors import NotFound
from pumppilot.models import Admin, EndReason, Role, Run, User

log = logging.getLogger(__name__)

MAX_ROUNDS = 20


async def set_user_suspended(
    *, actor: Caller, user_id: PydanticObjectId, suspended: bool, settings: Settings, clock: Clock
) -> User:
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    user = await User.get(user_id)
    if user is None or user.admin_id != tenant_id:
        raise NotFound("no such user")

    await user.set({User.suspended: suspended})
    if suspended:
        await accounts.end_sessions(user_id, clock=clock)
        await _end_open_runs({"user_id": user_id}, settings=settings, clock=clock)

    action = AuditAction.USER_SUSPENDED if suspended else AuditAction.USER_REACTIVATED
    await audit.record(action, clock=clock, actor=actor, tenant_id=tenant_id, target=str(user_id))
    await events.publish("account", tenant_id, user_id)
    return user


async def set_tenant_suspended(
    *,
    actor: Caller,
    tenant_id: PydanticObjectId,
    suspended: bool,
    settings: Settings,
    clock: Clock,
) -> Admin:
    """Freeze or thaw a whole tenant: its admin, its users, its queue and its devices."""
    actor.require(Role.MASTER)
    admin = await Admin.get(tenant_id)
    if admin is None or admin.role is not Role.ADMIN:
        raise NotFound("no such tenant")

    # The flag goes first so that ending the active run cannot promote the next one.
    await admin.set({Admin.suspended: suspended})
    if suspended:
        await accounts.end_sessions(tenant_id, clock=clock)
        await _end_open_runs({"admin_id": tenant_id}, settings=settings, clock=clock)

    action = AuditAction.ADMIN_SUSPENDED if suspended else AuditAction.ADMIN_REACTIVATED
    await audit.record(action, clock=clock, actor=actor, tenant_id=tenant_id, target=str(tenant_id))
    await events.publish("tenant", tenant_id)
    log.info("tenant %s %s", tenant_id, "suspended" if suspended else "reactivated")
    return admin


async def _end_open_runs(scope: dict[str, object], *, settings: Settings, clock: Clock) -> None:
    """End every open run in scope, reading again until none is left.

    A run can change state between the read and the conditional write (a WAITING run
    promoted at that very moment); re-reading catches it, so no run of a suspended
    account is left RUNNING.
    """
    for _ in range(MAX_ROUNDS):
        runs = await Run.find({**scope, "open": True}).to_list()
        if not runs:
            return
        for run in runs:
            await queue.end_run(run, reason=EndReason.SUSPENDED, settings=settings, clock=clock)
    log.error("open runs remained after suspending %s", scope)
