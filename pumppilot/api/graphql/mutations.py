"""Fields that change state. Each declares who may call it, then asks an engine."""

import strawberry

from pumppilot.api.graphql.access import allow, public
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.queries import device_type
from pumppilot.api.graphql.types import (
    Admin,
    ClientKind,
    Device,
    DeviceKeyPayload,
    LedgerEntry,
    LoginPayload,
    MinuteRequest,
    Run,
    User,
)
from pumppilot.engines import (
    accounts,
    devices,
    minute_requests,
    queue,
    suspension,
    tenant_settings,
    wallet,
)
from pumppilot.engines.ids import parse_id
from pumppilot.models import Role

Info = strawberry.Info[Context, None]
EVERYONE = (Role.MASTER, Role.ADMIN, Role.USER)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Exchange an identifier and password for tokens.", **public())
    async def login(
        self, info: Info, identifier: str, password: str, client: ClientKind = ClientKind.WEB
    ) -> LoginPayload:
        runtime = info.context.runtime
        signed_in = await accounts.login(
            identifier=identifier,
            password=password,
            client=client,
            address=info.context.address,
            signer=runtime.signer,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return LoginPayload.from_signed_in(signed_in)

    @strawberry.mutation(description="Trade a refresh token for a new pair.", **public())
    async def refresh_session(self, info: Info, refresh_token: str) -> LoginPayload:
        runtime = info.context.runtime
        signed_in = await accounts.refresh(
            refresh_token=refresh_token,
            signer=runtime.signer,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return LoginPayload.from_signed_in(signed_in)

    @strawberry.mutation(
        description="End this session; its tokens stop working.", **allow(*EVERYONE)
    )
    async def logout(self, info: Info) -> bool:
        caller = await info.context.caller()
        await accounts.logout(caller=caller, clock=info.context.runtime.clock)
        return True

    @strawberry.mutation(
        description="Change your password; your other sessions end.", **allow(*EVERYONE)
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        caller = await info.context.caller()
        await accounts.change_password(
            caller=caller,
            current=current_password,
            new=new_password,
            settings=info.context.runtime.settings,
            clock=info.context.runtime.clock,
        )
        return True

    @strawberry.mutation(description="Create a tenant and its admin account.", **allow(Role.MASTER))
    async def create_admin(self, info: Info, identifier: str, name: str, password: str) -> Admin:
        admin = await accounts.create_admin(
            actor=await info.context.caller(),
            identifier=identifier,
            name=name,
            password=password,
            clock=info.context.runtime.clock,
        )
        return Admin.from_model(admin)

    @strawberry.mutation(
        description="Freeze a tenant: its run ends, its users and devices are refused.",
        **allow(Role.MASTER),
    )
    async def suspend_admin(self, info: Info, admin_id: strawberry.ID) -> Admin:
        return await _set_tenant_suspended(info, admin_id, suspended=True)

    @strawberry.mutation(description="Let a suspended tenant work again.", **allow(Role.MASTER))
    async def reactivate_admin(self, info: Info, admin_id: strawberry.ID) -> Admin:
        return await _set_tenant_suspended(info, admin_id, suspended=False)

    @strawberry.mutation(description="Create a user in your tenant.", **allow(Role.ADMIN))
    async def create_user(
        self,
        info: Info,
        identifier: str,
        name: str,
        password: str,
        rfid_card: str | None = None,
    ) -> User:
        user = await accounts.create_user(
            actor=await info.context.caller(),
            identifier=identifier,
            name=name,
            password=password,
            rfid_card=rfid_card,
            clock=info.context.runtime.clock,
        )
        return User.from_model(user)

    @strawberry.mutation(
        description="Suspend one of your users; their run ends.", **allow(Role.ADMIN)
    )
    async def suspend_user(self, info: Info, user_id: strawberry.ID) -> User:
        return await _set_user_suspended(info, user_id, suspended=True)

    @strawberry.mutation(description="Let a suspended user work again.", **allow(Role.ADMIN))
    async def reactivate_user(self, info: Info, user_id: strawberry.ID) -> User:
        return await _set_user_suspended(info, user_id, suspended=False)

    @strawberry.mutation(
        description="Add minutes to a user's balance; a retried key adds nothing.",
        **allow(Role.ADMIN),
    )
    async def recharge(
        self, info: Info, user_id: strawberry.ID, minutes: int, idempotency_key: str
    ) -> LedgerEntry:
        entry = await wallet.recharge(
            actor=await info.context.caller(),
            user_id=parse_id(user_id, what="userId"),
            minutes=minutes,
            idempotency_key=idempotency_key,
            clock=info.context.runtime.clock,
        )
        return LedgerEntry.from_model(entry)

    @strawberry.mutation(
        description="Register a board; its key is in the answer and nowhere else.",
        **allow(Role.ADMIN),
    )
    async def register_device(self, info: Info, device_id: str, name: str) -> DeviceKeyPayload:
        device, key = await devices.register_device(
            actor=await info.context.caller(),
            device_id=device_id,
            name=name,
            clock=info.context.runtime.clock,
        )
        return DeviceKeyPayload(device=device_type(device, info.context.runtime), key=key)

    @strawberry.mutation(
        description="Give a board a new key; the old one stops working.", **allow(Role.ADMIN)
    )
    async def rotate_device_key(self, info: Info, device_id: str) -> DeviceKeyPayload:
        device, key = await devices.rotate_key(
            actor=await info.context.caller(), device_id=device_id, clock=info.context.runtime.clock
        )
        return DeviceKeyPayload(device=device_type(device, info.context.runtime), key=key)

    @strawberry.mutation(
        description=(
            "Refuse a board from its next request on, holding any run it kept going; "
            "rotating its key brings it back."
        ),
        **allow(Role.ADMIN),
    )
    async def revoke_device(self, info: Info, device_id: str) -> Device:
        runtime = info.context.runtime
        device = await devices.revoke_device(
            actor=await info.context.caller(),
            device_id=device_id,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return device_type(device, runtime)

    @strawberry.mutation(
        description="Ask to run the pump: starts at once or joins the queue.", **allow(Role.USER)
    )
    async def start_motor(self, info: Info, minutes: int) -> Run:
        caller = await info.context.caller()
        clock = info.context.runtime.clock

        run = await queue.start_run(
            tenant_id=caller.own_tenant(),
            user_id=caller.account_id,
            minutes=minutes,
            settings=info.context.runtime.settings,
            clock=clock,
        )
        position = await queue.waiting_position(run)
        return Run.from_model(run, now=clock.now(), position=position, show_name=True)

    @strawberry.mutation(
        description="Stop your run, or leave the queue if it is waiting.", **allow(Role.USER)
    )
    async def stop_motor(self, info: Info) -> Run:
        caller = await info.context.caller()
        clock = info.context.runtime.clock

        run = await queue.stop_run(
            tenant_id=caller.own_tenant(),
            user_id=caller.account_id,
            settings=info.context.runtime.settings,
            clock=clock,
        )
        return Run.from_model(run, now=clock.now(), position=None, show_name=True)

    @strawberry.mutation(description="Give up your place in the queue.", **allow(Role.USER))
    async def leave_queue(self, info: Info) -> Run:
        caller = await info.context.caller()
        runtime = info.context.runtime

        run = await queue.leave_queue(
            tenant_id=caller.own_tenant(),
            user_id=caller.account_id,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return Run.from_model(run, now=runtime.clock.now(), position=None, show_name=True)

    @strawberry.mutation(
        description="Stop the active run or remove a waiting one from your tenant's queue.",
        **allow(Role.ADMIN),
    )
    async def end_run(self, info: Info, run_id: strawberry.ID) -> Run:
        runtime = info.context.runtime
        run = await queue.end_run_as_admin(
            actor=await info.context.caller(),
            run_id=run_id,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return Run.from_model(run, now=runtime.clock.now(), position=None, show_name=True)

    @strawberry.mutation(
        description="Change your tenant's settings; a manual hold pauses the pump at once.",
        **allow(Role.ADMIN),
    )
    async def update_tenant_settings(
        self,
        info: Info,
        min_start_minutes: int | None = None,
        manual_hold: bool | None = None,
    ) -> Admin:
        runtime = info.context.runtime
        tenant = await tenant_settings.update(
            actor=await info.context.caller(),
            min_start_minutes=min_start_minutes,
            manual_hold=manual_hold,
            settings=runtime.settings,
            clock=runtime.clock,
        )
        return Admin.from_model(tenant)

    @strawberry.mutation(
        description="Correct a user's balance up or down by seconds, with a reason.",
        **allow(Role.ADMIN),
    )
    async def adjust_balance(
        self,
        info: Info,
        user_id: strawberry.ID,
        seconds: int,
        reason: str,
        idempotency_key: str,
    ) -> LedgerEntry:
        entry = await wallet.adjust(
            actor=await info.context.caller(),
            user_id=parse_id(user_id, what="userId"),
            seconds=seconds,
            reason=reason,
            idempotency_key=idempotency_key,
            clock=info.context.runtime.clock,
        )
        return LedgerEntry.from_model(entry)

    @strawberry.mutation(
        description="Give back some or all of what a finished run was charged; once per run.",
        **allow(Role.ADMIN),
    )
    async def refund_run(
        self, info: Info, run_id: strawberry.ID, seconds: int, reason: str
    ) -> LedgerEntry:
        entry = await wallet.refund_run(
            actor=await info.context.caller(),
            run_id=parse_id(run_id, what="runId"),
            seconds=seconds,
            reason=reason,
            clock=info.context.runtime.clock,
        )
        return LedgerEntry.from_model(entry)

    @strawberry.mutation(description="Ask your admin for more minutes.", **allow(Role.USER))
    async def request_minutes(self, info: Info, minutes: int, note: str = "") -> MinuteRequest:
        request = await minute_requests.request_minutes(
            caller=await info.context.caller(),
            minutes=minutes,
            note=note,
            clock=info.context.runtime.clock,
        )
        return MinuteRequest.from_model(request)

    @strawberry.mutation(
        description="Approve (which recharges) or reject a request for minutes.",
        **allow(Role.ADMIN),
    )
    async def decide_minute_request(
        self, info: Info, id: strawberry.ID, approve: bool, note: str = ""
    ) -> MinuteRequest:
        request = await minute_requests.decide(
            actor=await info.context.caller(),
            request_id=id,
            approve=approve,
            note=note,
            clock=info.context.runtime.clock,
        )
        return MinuteRequest.from_model(request)


async def _set_user_suspended(info: Info, user_id: strawberry.ID, *, suspended: bool) -> User:
    user = await suspension.set_user_suspended(
        actor=await info.context.caller(),
        user_id=parse_id(user_id, what="userId"),
        suspended=suspended,
        settings=info.context.runtime.settings,
        clock=info.context.runtime.clock,
    )
    return User.from_model(user)


async def _set_tenant_suspended(info: Info, admin_id: strawberry.ID, *, suspended: bool) -> Admin:
    admin = await suspension.set_tenant_suspended(
        actor=await info.context.caller(),
        tenant_id=parse_id(admin_id, what="adminId"),
        suspended=suspended,
        settings=info.context.runtime.settings,
        clock=info.context.runtime.clock,
    )
    return Admin.from_model(admin)
