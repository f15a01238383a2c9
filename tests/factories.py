"""Building tenants, users and devices through the engines, as the product does."""

from dataclasses import dataclass, field

from beanie import PydanticObjectId

from pumppilot.clock import Clock
from pumppilot.engines import accounts, devices, wallet
from pumppilot.models import Admin, User

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    admin: Admin
    users: dict[str, User] = field(default_factory=dict)
    device_id: str = "pump-1"
    device_key: str = ""

    @property
    def id(self) -> PydanticObjectId:
        assert self.admin.id is not None
        return self.admin.id

    def user_id(self, name: str) -> PydanticObjectId:
        user_id = self.users[name].id
        assert user_id is not None
        return user_id


async def make_tenant(name: str, clock: Clock, *, balances: dict[str, int]) -> Tenant:
    admin = await accounts.create_admin(
        identifier=f"{name}-admin", name=f"{name} admin", password=PASSWORD, clock=clock
    )
    tenant = Tenant(admin=admin)
    for user_name, minutes in balances.items():
        tenant.users[user_name] = await make_user(tenant, user_name, minutes, clock)

    _, tenant.device_key = await devices.register_device(
        tenant_id=tenant.id, device_id=tenant.device_id, name="pump", clock=clock
    )
    return tenant


async def make_user(tenant: Tenant, name: str, minutes: int, clock: Clock) -> User:
    user = await accounts.create_user(
        tenant_id=tenant.id, identifier=name, name=name.title(), password=PASSWORD, clock=clock
    )
    assert user.id is not None
    if minutes:
        await wallet.recharge(
            tenant_id=tenant.id,
            user_id=user.id,
            minutes=minutes,
            actor_id=tenant.id,
            idempotency_key=f"initial-{name}",
            clock=clock,
        )
    fresh = await User.get(user.id)
    assert fresh is not None
    return fresh
