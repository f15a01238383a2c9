"""Live streams over graphql-transport-ws.

Each stream sends the current state first, then again after every change the engines
announce for the tenant. Before each message it authenticates the caller again, so a
logout, an expired session or a suspension ends the stream with that error's code.
"""

import asyncio
import contextlib
from collections.abc import AsyncGenerator

import strawberry
from beanie import PydanticObjectId

from pumppilot import events
from pumppilot.api.graphql.access import allow_in_resolver, authorize
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.queries import queue_type
from pumppilot.api.graphql.types import MyQueuePosition, Queue
from pumppilot.engines import queue, tenancy
from pumppilot.engines.caller import Caller
from pumppilot.engines.runs import remaining_seconds
from pumppilot.models import Role

Info = strawberry.Info[Context, None]
EVERYONE = (Role.MASTER, Role.ADMIN, Role.USER)
# Sessions expire by the clock with no event to announce it, so streams also wake to check.
RECHECK_SECONDS = 30.0


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The tenant's queue now, then after every change.",
        **allow_in_resolver(*EVERYONE),
    )
    async def queue_changed(
        self, info: Info, tenant_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Queue]:
        caller = await authorize(info.context, EVERYONE)
        tenant = await tenancy.tenant_for(caller, tenant_id)
        clock, settings = info.context.runtime.clock, info.context.runtime.settings

        async for viewer in _changes(info.context, tenant):
            view = await queue.tenant_queue(tenant, settings=settings, clock=clock)
            yield queue_type(view, viewer, now=clock.now())

    @strawberry.subscription(
        description="Where your run stands: position, status and remaining seconds.",
        **allow_in_resolver(Role.USER),
    )
    async def my_queue_position(self, info: Info) -> AsyncGenerator[MyQueuePosition]:
        caller = await authorize(info.context, (Role.USER,))
        clock, settings = info.context.runtime.clock, info.context.runtime.settings

        async for _ in _changes(info.context, caller.own_tenant()):
            await queue.settle_due(caller.own_tenant(), settings=settings, clock=clock)
            run = await queue.open_run_of(caller.account_id)
            if run is None:
                yield MyQueuePosition(
                    run_id=None, status=None, position=None, remaining_seconds=0, hold_reason=None
                )
                continue
            yield MyQueuePosition(
                run_id=strawberry.ID(str(run.id)),
                status=run.status,
                position=await queue.waiting_position(run),
                remaining_seconds=remaining_seconds(run, clock.now()) if run.active else 0,
                hold_reason=run.hold_reason,
            )


async def _changes(context: Context, tenant_id: PydanticObjectId) -> AsyncGenerator[Caller]:
    """Yield the re-checked caller now, then whenever the tenant changes or time passes."""
    async with events.bus().listen(tenant_id) as listener:
        while True:
            yield await context.recheck()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.get(), timeout=RECHECK_SECONDS)
