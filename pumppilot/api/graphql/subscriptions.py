"""Live streams over graphql-transport-ws.

Each stream sends the current state first, then the state again after every change
that concerns it, read once per change for the whole worker (`pumppilot.live`). State
that looks the same to many subscribers is sent as one shared result (`shared.py`).
"""

from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial

import strawberry
from beanie import PydanticObjectId

from pumppilot.api.graphql.access import allow_in_resolver, authorize
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.queries import device_type, queue_type
from pumppilot.api.graphql.shared import shared
from pumppilot.api.graphql.streams import stream
from pumppilot.api.graphql.types import Device, MyQueuePosition, Queue, User, Wallet
from pumppilot.clock import Clock
from pumppilot.engines import history, queue, tenancy, wallet
from pumppilot.engines.caller import Caller
from pumppilot.live import state
from pumppilot.live.watch import TenantWatch
from pumppilot.models import Device as DeviceDocument
from pumppilot.models import Role
from pumppilot.models import User as UserDocument
from pumppilot.runtime import Runtime

Info = strawberry.Info[Context, None]
EVERYONE = (Role.MASTER, Role.ADMIN, Role.USER)
MANAGERS = (Role.MASTER, Role.ADMIN)


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
        clock = info.context.runtime.clock

        async with stream(info.context, tenant, caller) as live:
            async for viewer in live.on("queue", "tenant"):
                view = await state.queue_view(live.watch)
                # Everyone who would see the same names gets the very same result.
                key = ("queue", _names_seen(live.watch, view, viewer))
                payload = live.watch.rendered(
                    key, view, partial(_shared_queue, view, viewer, clock)
                )
                if not await live.sent_directly(payload):
                    yield payload

    @strawberry.subscription(
        description="Where your run stands: position, status, remaining seconds and an "
        "estimated start.",
        **allow_in_resolver(Role.USER),
    )
    async def my_queue_position(self, info: Info) -> AsyncGenerator[MyQueuePosition]:
        caller = await authorize(info.context, (Role.USER,))
        clock = info.context.runtime.clock

        async with stream(info.context, caller.own_tenant(), caller) as live:
            async for viewer in live.on("queue", "tenant"):
                view = await state.queue_view(live.watch)
                yield _position(view, viewer, now=clock.now())

    @strawberry.subscription(
        description="A balance now, then after every change: your own, or (admins) a user's.",
        **allow_in_resolver(Role.ADMIN, Role.USER),
    )
    async def wallet_changed(
        self, info: Info, user_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Wallet]:
        caller = await authorize(info.context, (Role.ADMIN, Role.USER))
        owner = await history.whose(caller, user_id)
        clock = info.context.runtime.clock

        async with stream(info.context, caller.own_tenant(), caller) as live:

            async def relevant() -> object:
                # The balance moves with the ledger, and its pending part with the run.
                view = await state.queue_view(live.watch)
                runs = [run for run in (view.active, *view.waiting) if run and run.user_id == owner]
                statuses = tuple((run.id, run.status) for run in runs)
                return (live.watch.stamp(), live.watch.accounts[owner], statuses)

            async for _ in live.changes(relevant):
                yield Wallet.from_view(await wallet.balance_of(owner, clock=clock))

    @strawberry.subscription(
        description="A tenant's users and balances now, then after every change.",
        **allow_in_resolver(*MANAGERS),
    )
    async def users_changed(
        self, info: Info, tenant_id: strawberry.ID | None = None
    ) -> AsyncGenerator[list[User]]:
        caller = await authorize(info.context, MANAGERS)
        tenant = await tenancy.tenant_for(caller, tenant_id)

        async with stream(info.context, tenant, caller) as live:
            async for _ in live.on("wallet", "account", "tenant"):
                found = await state.users(live.watch)
                payload = live.watch.rendered("users", found, partial(_shared_users, found))
                if not await live.sent_directly(payload):
                    yield payload

    @strawberry.subscription(
        description="The tenant's boards now, then whenever one goes online or offline or "
        "reports different signals or output. Offline is announced within seconds of the "
        "threshold.",
        **allow_in_resolver(*EVERYONE),
    )
    async def device_changed(
        self, info: Info, tenant_id: strawberry.ID | None = None
    ) -> AsyncGenerator[list[Device]]:
        caller = await authorize(info.context, EVERYONE)
        tenant = await tenancy.tenant_for(caller, tenant_id)
        runtime = info.context.runtime

        async with stream(info.context, tenant, caller) as live:

            async def relevant() -> object:
                boards = await state.boards(live.watch)
                return [device_type(board, runtime) for board in boards]

            async for _ in live.changes(relevant):
                boards = await state.boards(live.watch)
                build = partial(_shared_boards, boards, runtime)
                payload = live.watch.rendered("boards", boards, build)
                if not await live.sent_directly(payload):
                    yield payload


def _shared_queue(view: queue.QueueView, viewer: Caller, clock: Clock) -> Queue:
    return shared(queue_type(view, viewer, now=clock.now()))


def _shared_users(found: list[UserDocument]) -> list[User]:
    return shared([User.from_model(user) for user in found])


def _shared_boards(boards: list[DeviceDocument], runtime: Runtime) -> list[Device]:
    return shared([device_type(board, runtime) for board in boards])


def _names_seen(watch: TenantWatch, view: queue.QueueView, viewer: Caller) -> str:
    if viewer.role is not Role.USER:
        return "all"
    in_queue = watch.rendered("queued users", view, partial(_queued_users, view))
    return str(viewer.account_id) if viewer.account_id in in_queue else "none"


def _queued_users(view: queue.QueueView) -> frozenset[PydanticObjectId]:
    runs = (view.active, *view.waiting)
    return frozenset(run.user_id for run in runs if run is not None)


def _position(view: queue.QueueView, viewer: Caller, *, now: datetime) -> MyQueuePosition:
    standing = queue.standing_in(view, viewer.account_id, now=now)
    run = standing.run
    return MyQueuePosition(
        run_id=strawberry.ID(str(run.id)) if run is not None else None,
        status=run.status if run is not None else None,
        position=standing.position,
        remaining_seconds=standing.remaining_seconds,
        hold_reason=run.hold_reason if run is not None else None,
        estimated_start_at=standing.estimated_start_at,
    )
