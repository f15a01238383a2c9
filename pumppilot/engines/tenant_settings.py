"""A tenant's own settings, changed by its admin."""

import logging

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import queue
from pumppilot.engines.caller import Caller
from pumppilot.errors import BadUserInput, NotFound
from pumppilot.models import Admin, Role

log = logging.getLogger(__name__)

MAX_MIN_START_MINUTES = 240


async def update(
    *,
    actor: Caller,
    min_start_minutes: int | None,
    manual_hold: bool | None,
    settings: Settings,
    clock: Clock,
) -> Admin:
    """Change what was given; a manual hold pauses the active run at once, and lifting it
    resumes the run if nothing else holds it."""
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    changes: dict[str, object] = {}
    if min_start_minutes is not None:
        if not 1 <= min_start_minutes <= MAX_MIN_START_MINUTES:
            raise BadUserInput(f"the minimum to start is 1 to {MAX_MIN_START_MINUTES} minutes")
        changes["min_start_minutes"] = min_start_minutes
    if manual_hold is not None:
        changes["manual_hold"] = manual_hold

    tenant = await Admin.get(tenant_id)
    if tenant is None:
        raise NotFound("no such tenant")
    if changes:
        await tenant.set(changes)
        log.info("tenant %s settings changed: %s", tenant_id, sorted(changes))
        await events.publish("account", tenant_id, tenant_id)
        await queue.settle_due(tenant_id, settings=settings, clock=clock)
    return tenant
