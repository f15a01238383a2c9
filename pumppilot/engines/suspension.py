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
        run = await queue.open_run_of(user_id)
        if run is not None:
            await queue.end_run(run, reason=EndReason.SUSPENDED, settings=settings, clock=clock)

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
        await _end_every_open_run(tenant_id, settings=settings, clock=clock)

    action = AuditAction.ADMIN_SUSPENDED if suspended else AuditAction.ADMIN_REACTIVATED
    await audit.record(action, clock=clock, actor=actor, tenant_id=tenant_id, target=str(tenant_id))
    await events.publish("tenant", tenant_id)
    log.info("tenant %s %s", tenant_id, "suspended" if suspended else "reactivated")
    return admin


async def _end_every_open_run(
    tenant_id: PydanticObjectId, *, settings: Settings, clock: Clock
) -> None:
    runs = await Run.find(Run.admin_id == tenant_id, Run.open == True).to_list()  # noqa: E712
    for run in runs:
        await queue.end_run(run, reason=EndReason.SUSPENDED, settings=settings, clock=clock)
