"""Read-only fields. Each declares who may call it, then asks an engine."""

from datetime import datetime

import strawberry

from pumppilot.api.graphql.access import allow
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.types import (
    Account,
    Admin,
    AuditEntry,
    DailyUsage,
    Device,
    LedgerEntry,
    MinuteRequest,
    MinuteRequestStatus,
    Queue,
    Run,
    UsageRecord,
    User,
    Wallet,
)
from pumppilot.engines import (
    accounts,
    analytics,
    audit,
    devices,
    directory,
    history,
    minute_requests,
    queue,
    tenancy,
    wallet,
)
from pumppilot.engines.caller import Caller
from pumppilot.engines.ids import parse_optional_id
from pumppilot.errors import Unauthenticated
from pumppilot.models import Device as DeviceDocument
from pumppilot.models import Role
from pumppilot.models import Run as RunDocument
from pumppilot.runtime import Runtime

Info = strawberry.Info[Context, None]
EVERYONE = (Role.MASTER, Role.ADMIN, Role.USER)
MANAGERS = (Role.MASTER, Role.ADMIN)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in account.", **allow(*EVERYONE))
    async def me(self, info: Info) -> Account:
        caller = await info.context.caller()
        account = await accounts.load_account(caller.account_id, caller.role)
        if account is None:
            raise Unauthenticated("the account no longer exists")
        return Account.from_model(account)

    @strawberry.field(
        description="A tenant's queue; the master names the tenant.", **allow(*EVERYONE)
    )
    async def queue(self, info: Info, tenant_id: strawberry.ID | None = None) -> Queue:
        caller = await info.context.caller()
        tenant = await tenancy.tenant_for(caller, tenant_id)

        runtime = info.context.runtime
        view = await queue.tenant_queue(tenant, settings=runtime.settings, clock=runtime.clock)
        return queue_type(view, caller, now=info.context.runtime.clock.now())

    @strawberry.field(description="The signed-in user's balance.", **allow(Role.USER))
    async def wallet(self, info: Info) -> Wallet:
        caller = await info.context.caller()
        view = await wallet.balance_of(caller.account_id, clock=info.context.runtime.clock)
        return Wallet.from_view(view)

    @strawberry.field(
        description="A tenant's users; the master names the tenant.", **allow(*MANAGERS)
    )
    async def users(self, info: Info, tenant_id: strawberry.ID | None = None) -> list[User]:
        tenant = await tenancy.tenant_for(await info.context.caller(), tenant_id)
        return [User.from_model(user) for user in await directory.users_of(tenant)]

    @strawberry.field(
        description="A tenant's devices; the master names the tenant.", **allow(*MANAGERS)
    )
    async def devices(self, info: Info, tenant_id: strawberry.ID | None = None) -> list[Device]:
        tenant = await tenancy.tenant_for(await info.context.caller(), tenant_id)
        found = await devices.devices_of(tenant)
        return [device_type(device, info.context.runtime) for device in found]

    @strawberry.field(description="Every tenant on the platform.", **allow(Role.MASTER))
    async def admins(self, info: Info) -> list[Admin]:
        caller = await info.context.caller()
        return [Admin.from_model(admin) for admin in await directory.tenants(caller)]

    @strawberry.field(
        description="Security events, newest first. An admin sees their tenant's; the master "
        "sees a named tenant's, or everything when none is named.",
        **allow(*MANAGERS),
    )
    async def audit_log(
        self,
        info: Info,
        tenant_id: strawberry.ID | None = None,
        limit: int = 50,
        before: strawberry.ID | None = None,
    ) -> list[AuditEntry]:
        caller = await info.context.caller()
        scope = await tenancy.audit_scope(caller, tenant_id)
        cursor = parse_optional_id(before, what="before")

        entries = await audit.entries_for(scope, viewer=caller.role, limit=limit, before=cursor)
        return [AuditEntry.from_model(entry) for entry in entries]

    @strawberry.field(
        description="Balance changes, newest first: your own, or (admins) a user's.",
        **allow(Role.ADMIN, Role.USER),
    )
    async def ledger(
        self,
        info: Info,
        user_id: strawberry.ID | None = None,
        limit: int = 50,
        before: strawberry.ID | None = None,
    ) -> list[LedgerEntry]:
        owner = await history.whose(await info.context.caller(), user_id)
        entries = await history.ledger(owner, limit=limit, before=before)
        return [LedgerEntry.from_model(entry) for entry in entries]

    @strawberry.field(
        description="Finished runs, newest first: your own, or (admins) a user's.",
        **allow(Role.ADMIN, Role.USER),
    )
    async def usage_history(
        self,
        info: Info,
        user_id: strawberry.ID | None = None,
        limit: int = 50,
        before: strawberry.ID | None = None,
    ) -> list[UsageRecord]:
        owner = await history.whose(await info.context.caller(), user_id)
        records = await history.usage(owner, limit=limit, before=before)
        return [UsageRecord.from_model(record) for record in records]

    @strawberry.field(
        description="Requests for minutes, newest first: your own, or your tenant's (admins).",
        **allow(Role.ADMIN, Role.USER),
    )
    async def minute_requests(
        self, info: Info, status: MinuteRequestStatus | None = None, limit: int = 50
    ) -> list[MinuteRequest]:
        found = await minute_requests.requests_for(
            await info.context.caller(), status=status, limit=limit
        )
        return [MinuteRequest.from_model(request) for request in found]

    @strawberry.field(
        description="Usage per day, newest first: your own, a user's or a tenant's. Page "
        "with `before` set to the last date you received.",
        **allow(*EVERYONE),
    )
    async def daily_usage(
        self,
        info: Info,
        tenant_id: strawberry.ID | None = None,
        user_id: strawberry.ID | None = None,
        before: str | None = None,
        limit: int = 31,
    ) -> list[DailyUsage]:
        days = await analytics.daily_usage(
            await info.context.caller(),
            tenant_id=tenant_id,
            user_id=user_id,
            before=before,
            limit=limit,
        )
        return [
            DailyUsage(
                date=day.date,
                runs=day.runs,
                seconds_run=day.seconds_run,
                seconds_held=day.seconds_held,
                charged_seconds=day.charged_seconds,
            )
            for day in days
        ]


def device_type(device: DeviceDocument, runtime: Runtime) -> Device:
    now, offline_after = runtime.clock.now(), runtime.settings.offline_after
    return Device.from_model(device, now=now, offline_after=offline_after)


def queue_type(view: queue.QueueView, caller: Caller, *, now: datetime) -> Queue:
    return Queue(
        tenant_id=strawberry.ID(str(view.tenant_id)),
        version=view.version,
        active=_shown(view.active, caller, now=now, position=None) if view.active else None,
        waiting=[
            _shown(run, caller, now=now, position=number)
            for number, run in enumerate(view.waiting, start=1)
        ],
    )


def _shown(run: RunDocument, caller: Caller, *, now: datetime, position: int | None) -> Run:
    show_name = queue.shows_name(run, viewer_id=caller.account_id, viewer_role=caller.role)
    return Run.from_model(run, now=now, position=position, show_name=show_name)
