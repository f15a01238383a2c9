"""Building tenants, users and devices through the engines, as the product does."""

from dataclasses import dataclass, field

from beanie import PydanticObjectId

from pumppilot.clock import Clock
from pumppilot.engines import accounts, devices, wallet
from pumppilot.engines.caller import Caller, acting_as
from pumppilot.models import Admin, Role, User

PASSWORD = "correct horse battery"
MASTER_IDENTIFIER = "platform-master"


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

    @property
    def as_admin(self) -> Caller:
        return acting_as(self.id, Role.ADMIN, self.admin.name)

    def user_id(self, name: str) -> PydanticObjectId:
        user_id = self.users[name].id
        assert user_id is not None
        return user_id


async def master_caller(clock: Clock) -> Caller:
    """The platform's master admin, created on first use."""
    master = await Admin.find_one(Admin.identifier == MASTER_IDENTIFIER)
    if master is None:
        master = await accounts.create_master(
            identifier=MASTER_IDENTIFIER, name="Master", password=PASSWORD, clock=clock
        )
    assert master.id is not None
    return acting_as(master.id, Role.MASTER, master.name)


async def make_tenant(
    name: str, clock: Clock, *, balances: dict[str, int], cards: dict[str, str] | None = None
) -> Tenant:
    admin = await accounts.create_admin(
        actor=await master_caller(clock),
        identifier=f"{name}-admin",
        name=f"{name} admin",
        password=PASSWORD,
        clock=clock,
    )
    tenant = Tenant(admin=admin)
    for user_name, minutes in balances.items():
        card = (cards or {}).get(user_name)
        tenant.users[user_name] = await make_user(tenant, user_name, minutes, clock, card=card)

    device, tenant.device_key = await devices.register_device(
        actor=tenant.as_admin, device_id=tenant.device_id, name="pump", clock=clock
    )
    # The board has just polled and reported itself ready, so runs may start.
    await device.set({"last_seen_at": clock.now(), "ready": True, "load_shedding": False})
    return tenant


async def make_user(
    tenant: Tenant, name: str, minutes: int, clock: Clock, *, card: str | None = None
) -> User:
    user = await accounts.create_user(
        actor=tenant.as_admin,
        identifier=name,
        name=name.title(),
        password=PASSWORD,
        rfid_card=card,
        clock=clock,
    )
    assert user.id is not None
    if minutes:
        await wallet.recharge(
            actor=tenant.as_admin,
            user_id=user.id,
            minutes=minutes,
            idempotency_key=f"initial-{name}",
            clock=clock,
        )
    fresh = await User.get(user.id)
    assert fresh is not None
    return fresh
