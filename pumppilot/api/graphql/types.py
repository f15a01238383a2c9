"""GraphQL object types and their construction from documents."""

from datetime import datetime

import strawberry

from pumppilot import models
from pumppilot.engines import accounts
from pumppilot.engines.runs import remaining_seconds, seconds_run

# The documents' enums are exposed as they are, so a value means the same in both places.
strawberry.enum(models.Role, description="What an account may do.")
strawberry.enum(models.RunStatus, description="Where a run is in its life.")
strawberry.enum(models.EndReason, description="Why a run ended.")
Role = models.Role
RunStatus = models.RunStatus
EndReason = models.EndReason


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
        role = models.Role.USER if isinstance(account, models.User) else account.role
        return cls(
            id=strawberry.ID(str(account.id)),
            role=role,
            name=account.name,
            identifier=account.identifier,
            tenant_id=strawberry.ID(str(tenant)) if tenant is not None else None,
        )


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    account: Account


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
    remaining_seconds: int
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
    balance_seconds: int
    balance_minutes: float

    @classmethod
    def from_seconds(cls, seconds: int) -> "Wallet":
        return cls(balance_seconds=seconds, balance_minutes=round(seconds / 60, 2))
