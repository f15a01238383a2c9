"""Read-only fields. Each resolves the caller, then asks an engine."""

from datetime import datetime

import strawberry

from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.types import Account, Queue, Run, Wallet
from pumppilot.engines import accounts, queue, tenancy, wallet
from pumppilot.engines.accounts import Caller
from pumppilot.errors import Unauthenticated
from pumppilot.models import Role
from pumppilot.models import Run as RunDocument

Info = strawberry.Info[Context, None]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in account.")
    async def me(self, info: Info) -> Account:
        caller = await info.context.caller()
        account = await accounts.load_account(caller.account_id, caller.role)
        if account is None:
            raise Unauthenticated("the account no longer exists")
        return Account.from_model(account)

    @strawberry.field(description="A tenant's queue; the master admin names the tenant.")
    async def queue(self, info: Info, tenant_id: strawberry.ID | None = None) -> Queue:
        caller = await info.context.caller()
        tenant = await tenancy.tenant_for(caller, tenant_id)

        view = await queue.tenant_queue(tenant, clock=info.context.runtime.clock)
        now = info.context.runtime.clock.now()
        return Queue(
            tenant_id=strawberry.ID(str(view.tenant_id)),
            version=view.version,
            active=_shown(view.active, caller, now=now, position=None) if view.active else None,
            waiting=[
                _shown(run, caller, now=now, position=number)
                for number, run in enumerate(view.waiting, start=1)
            ],
        )

    @strawberry.field(description="The signed-in user's balance.")
    async def wallet(self, info: Info) -> Wallet:
        caller = await info.context.caller()
        caller.require(Role.USER)
        return Wallet.from_seconds(await wallet.balance_of(caller.account_id))


def _shown(run: RunDocument, caller: Caller, *, now: datetime, position: int | None) -> Run:
    # Users see where everyone stands but only their own name.
    show_name = caller.role is not Role.USER or run.user_id == caller.account_id
    return Run.from_model(run, now=now, position=position, show_name=show_name)
