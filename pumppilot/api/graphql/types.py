"""GraphQL object types and their construction from documents."""

from datetime import datetime, timedelta

import strawberry

from pumppilot import models
from pumppilot.engines import accounts, wallet
from pumppilot.engines.runs import remaining_seconds, seconds_held, seconds_run
from pumppilot.presence import presence

# The documents' enums are exposed as they are, so a value means the same in both places.
strawberry.enum(models.Role, description="What an account may do.")
strawberry.enum(models.RunStatus, description="Where a run is in its life.")
strawberry.enum(models.EndReason, description="Why a run ended.")
strawberry.enum(models.ClientKind, description="Web sessions are short; mobile ones long.")
strawberry.enum(models.LedgerKind, description="Why a balance changed.")
strawberry.enum(models.HoldReason, description="Why an active run is paused.")
strawberry.enum(models.MinuteRequestStatus, description="Where a request for minutes stands.")
Role = models.Role
RunStatus = models.RunStatus
EndReason = models.EndReason
ClientKind = models.ClientKind
LedgerKind = models.LedgerKind
HoldReason = models.HoldReason
MinuteRequestStatus = models.MinuteRequestStatus


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="A signed-in person: the master admin, an admin or a user.")
class Account:
    id: strawberry.ID
    role: Role
    name: str
    identifier: str
    tenant_id: strawberry.ID | None

    @classmethod
    def from_model(cls, account: accounts.Account) -> "Account":
        tenant = accounts.tenant_of(account)
        return cls(
            id=strawberry.ID(str(account.id)),
            role=accounts.role_of(account),
            name=account.name,
            identifier=account.identifier,
            tenant_id=strawberry.ID(str(tenant)) if tenant is not None else None,
        )


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime = strawberry.field(description="When `token` stops working.")
    refresh_token: str = strawberry.field(
        description="Trade it once, with refreshSession, for a new pair before the session ends."
    )
    account: Account

    @classmethod
    def from_signed_in(cls, signed_in: accounts.SignedIn) -> "LoginPayload":
        return cls(
            token=signed_in.access_token,
            expires_at=signed_in.access_expires_at,
            refresh_token=signed_in.refresh_token,
            account=Account.from_model(signed_in.account),
        )


@strawberry.type(description="One user's entry in a tenant's queue.")
class Run:
    id: strawberry.ID
    user_id: strawberry.ID
    user_name: str | None = strawberry.field(
        description="Shown to admins and to the run's own user; null to other users."
    )
    status: RunStatus
    position: int | None = strawberry.field(description="1 for the next to run; WAITING only.")
    requested_minutes: int
    seconds_run: int
    seconds_held: int
    remaining_seconds: int
    hold_reason: HoldReason | None
    requested_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    charged_seconds: int | None

    @classmethod
    def from_model(
        cls, run: models.Run, *, now: datetime, position: int | None, show_name: bool
    ) -> "Run":
        return cls(
            id=strawberry.ID(str(run.id)),
            user_id=strawberry.ID(str(run.user_id)),
            user_name=run.user_name if show_name else None,
            status=run.status,
            position=position,
            requested_minutes=run.requested_seconds // 60,
            seconds_run=seconds_run(run, now),
            seconds_held=seconds_held(run, now),
            hold_reason=run.hold_reason,
            remaining_seconds=remaining_seconds(run, now) if run.active else 0,
            requested_at=run.requested_at,
            started_at=run.started_at,
            ended_at=run.ended_at,
            end_reason=run.end_reason,
            charged_seconds=run.charged_seconds,
        )


@strawberry.type(description="A tenant's queue: the active run and those waiting, in order.")
class Queue:
    tenant_id: strawberry.ID
    version: int
    active: Run | None
    waiting: list[Run]


@strawberry.type(description="A user's prepaid time, kept in whole seconds.")
class Wallet:
    balance_seconds: int = strawberry.field(
        description="What the balance is, or will be if the active run stopped now."
    )
    balance_minutes: float
    pending_seconds: int = strawberry.field(
        description="Seconds the active run has used so far, booked when it ends."
    )

    @classmethod
    def from_view(cls, view: wallet.BalanceView) -> "Wallet":
        return cls(
            balance_seconds=view.balance_seconds,
            balance_minutes=round(view.balance_seconds / 60, 2),
            pending_seconds=view.pending_seconds,
        )


@strawberry.type(description="A tenant: its admin account, settings and standing.")
class Admin:
    id: strawberry.ID
    identifier: str
    name: str
    suspended: bool
    created_at: datetime
    min_start_minutes: int
    manual_hold: bool

    @classmethod
    def from_model(cls, admin: models.Admin) -> "Admin":
        return cls(
            id=_id(admin.id),
            identifier=admin.identifier,
            name=admin.name,
            suspended=admin.suspended,
            created_at=admin.created_at,
            min_start_minutes=admin.min_start_minutes,
            manual_hold=admin.manual_hold,
        )


@strawberry.type(description="A user of a tenant, as their admin sees them.")
class User:
    id: strawberry.ID
    identifier: str
    name: str
    suspended: bool
    rfid_card: str | None
    balance_seconds: int
    balance_minutes: float

    @classmethod
    def from_model(cls, user: models.User) -> "User":
        return cls(
            id=_id(user.id),
            identifier=user.identifier,
            name=user.name,
            suspended=user.suspended,
            rfid_card=user.rfid_card,
            balance_seconds=user.balance_seconds,
            balance_minutes=round(user.balance_seconds / 60, 2),
        )


@strawberry.type(description="A pump controller board. Its key is never shown here.")
class Device:
    device_id: str
    name: str
    revoked: bool
    online: bool = strawberry.field(
        description="Whether the board has polled recently enough to run the motor."
    )
    last_seen_at: datetime | None = strawberry.field(
        description="Its last poll, as the workers last shared it (every few seconds)."
    )
    load_shedding: bool | None
    ready: bool | None
    output_on: bool | None
    firmware: str | None = strawberry.field(description="The version the board reported.")
    uptime_seconds: int | None = strawberry.field(
        description="Seconds since the board started, as of its last recorded poll."
    )

    @classmethod
    def from_model(
        cls, device: models.Device, *, now: datetime, offline_after: timedelta
    ) -> "Device":
        table = presence()
        return cls(
            device_id=device.device_id,
            name=device.name,
            revoked=device.revoked,
            online=table.online(device, now, offline_after) and not device.revoked,
            last_seen_at=table.last_seen(str(device.id), device.last_seen_at),
            load_shedding=device.load_shedding,
            ready=device.ready,
            output_on=device.output_on,
            firmware=device.firmware,
            uptime_seconds=device.uptime_seconds,
        )


@strawberry.type
class DeviceKeyPayload:
    device: Device
    key: str = strawberry.field(description="Shown this once; store it on the board.")


@strawberry.type(description="One change to a balance.")
class LedgerEntry:
    id: strawberry.ID
    user_id: strawberry.ID
    kind: LedgerKind
    seconds: int
    balance_after: int
    reason: str
    created_at: datetime

    @classmethod
    def from_model(cls, entry: models.LedgerEntry) -> "LedgerEntry":
        return cls(
            id=_id(entry.id),
            user_id=_id(entry.user_id),
            kind=entry.kind,
            seconds=entry.seconds,
            balance_after=entry.balance_after,
            reason=entry.reason,
            created_at=entry.created_at,
        )


@strawberry.type(description="Who did what, when and from where.")
class AuditEntry:
    id: strawberry.ID
    tenant_id: strawberry.ID | None
    actor_id: strawberry.ID | None
    actor_role: Role | None
    action: str
    target: str | None
    detail: str | None
    client_address: str | None
    at: datetime

    @classmethod
    def from_model(cls, entry: models.AuditEntry) -> "AuditEntry":
        return cls(
            id=_id(entry.id),
            tenant_id=_id(entry.admin_id) if entry.admin_id is not None else None,
            actor_id=_id(entry.actor_id) if entry.actor_id is not None else None,
            actor_role=entry.actor_role,
            action=entry.action,
            target=entry.target,
            detail=entry.detail,
            client_address=entry.client_address,
            at=entry.at,
        )


@strawberry.type(description="Where the signed-in user stands in the queue.")
class MyQueuePosition:
    run_id: strawberry.ID | None
    status: RunStatus | None
    position: int | None
    remaining_seconds: int
    hold_reason: HoldReason | None
    estimated_start_at: datetime | None = strawberry.field(
        description="For a waiting run: the latest it should start, if every run ahead "
        "uses all the time it asked for and any hold ends now."
    )


@strawberry.type(description="A paused stretch of a run.")
class HoldSpan:
    reason: HoldReason
    started_at: datetime
    ended_at: datetime | None


@strawberry.type(description="How one finished run went.")
class UsageRecord:
    id: strawberry.ID
    run_id: strawberry.ID
    date: str
    started_at: datetime | None
    ended_at: datetime
    seconds_run: int
    seconds_held: int
    charged_seconds: int
    end_reason: EndReason
    holds: list[HoldSpan]

    @classmethod
    def from_model(cls, record: models.UsageRecord) -> "UsageRecord":
        return cls(
            id=_id(record.id),
            run_id=_id(record.run_id),
            date=record.date,
            started_at=record.started_at,
            ended_at=record.ended_at,
            seconds_run=record.seconds_run,
            seconds_held=record.seconds_held,
            charged_seconds=record.charged_seconds,
            end_reason=record.end_reason,
            holds=[
                HoldSpan(reason=span.reason, started_at=span.started_at, ended_at=span.ended_at)
                for span in record.holds
            ],
        )


@strawberry.type(description="A user's request for more minutes, and the admin's answer.")
class MinuteRequest:
    id: strawberry.ID
    user_id: strawberry.ID
    minutes: int
    note: str
    status: MinuteRequestStatus
    created_at: datetime
    decided_at: datetime | None
    decision_note: str

    @classmethod
    def from_model(cls, request: models.MinuteRequest) -> "MinuteRequest":
        return cls(
            id=_id(request.id),
            user_id=_id(request.user_id),
            minutes=request.minutes,
            note=request.note,
            status=request.status,
            created_at=request.created_at,
            decided_at=request.decided_at,
            decision_note=request.decision_note,
        )


@strawberry.type(description="Runs and their time added up over one day.")
class DailyUsage:
    date: str
    runs: int
    seconds_run: int
    seconds_held: int
    charged_seconds: int
