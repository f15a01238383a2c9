"""Fields that change state. Each resolves the caller, then asks an engine."""

import strawberry

from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.types import Account, LoginPayload, Run
from pumppilot.engines import accounts, queue
from pumppilot.models import Role

Info = strawberry.Info[Context, None]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Exchange an identifier and password for a token.")
    async def login(self, info: Info, identifier: str, password: str) -> LoginPayload:
        runtime = info.context.runtime
        token, account = await accounts.login(
            identifier=identifier, password=password, signer=runtime.signer, clock=runtime.clock
        )
        return LoginPayload(token=token, account=Account.from_model(account))

    @strawberry.mutation(description="End the current session; its token stops working.")
    async def logout(self, info: Info) -> bool:
        caller = await info.context.caller()
        await accounts.logout(caller=caller, clock=info.context.runtime.clock)
        return True

    @strawberry.mutation(description="Ask to run the pump: starts at once or joins the queue.")
    async def start_motor(self, info: Info, minutes: int) -> Run:
        caller = await info.context.caller()
        caller.require(Role.USER)
        assert caller.tenant_id is not None
        clock = info.context.runtime.clock

        run = await queue.start_run(
            tenant_id=caller.tenant_id, user_id=caller.account_id, minutes=minutes, clock=clock
        )
        position = await queue.waiting_position(run)
        return Run.from_model(run, now=clock.now(), position=position, show_name=True)

    @strawberry.mutation(description="Stop your run, or leave the queue if it is waiting.")
    async def stop_motor(self, info: Info) -> Run:
        caller = await info.context.caller()
        caller.require(Role.USER)
        assert caller.tenant_id is not None
        clock = info.context.runtime.clock

        run = await queue.stop_run(
            tenant_id=caller.tenant_id, user_id=caller.account_id, clock=clock
        )
        return Run.from_model(run, now=clock.now(), position=None, show_name=True)
