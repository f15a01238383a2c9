"""Listing accounts: an admin's users, and the master's list of tenants."""

from beanie import PydanticObjectId

from pumppilot.engines.caller import Caller
from pumppilot.models import Admin, Role, User

MAX_PAGE = 500


async def users_of(tenant_id: PydanticObjectId) -> list[User]:
    return await User.find(User.admin_id == tenant_id).sort("+name").limit(MAX_PAGE).to_list()


async def tenants(actor: Caller) -> list[Admin]:
    actor.require(Role.MASTER)
    return await Admin.find(Admin.role == Role.ADMIN).sort("+name").limit(MAX_PAGE).to_list()
