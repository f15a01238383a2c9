"""Which tenant a call acts on: always the caller's own, unless the master names one."""

from beanie import PydanticObjectId

from pumppilot.engines.caller import Caller
from pumppilot.engines.ids import parse_id
from pumppilot.errors import BadUserInput, NotFound
from pumppilot.models import Admin, Role


async def tenant_for(caller: Caller, named: str | None) -> PydanticObjectId:
    """The tenant the caller may act on; another tenant's id reads as one that is not there."""
    if caller.role is not Role.MASTER:
        assert caller.tenant_id is not None
        if named is not None and named != str(caller.tenant_id):
            raise NotFound("no such tenant")
        return caller.tenant_id

    if named is None:
        raise BadUserInput("the master admin must name a tenant with tenantId")

    tenant_id = parse_id(named, what="tenantId")
    admin = await Admin.get(tenant_id)
    if admin is None or admin.role is not Role.ADMIN:
        raise NotFound("no such tenant")
    return tenant_id


async def audit_scope(caller: Caller, named: str | None) -> PydanticObjectId | None:
    """The tenant whose audit entries the caller may read; None is the master's all."""
    if caller.role is Role.MASTER and named is None:
        return None
    return await tenant_for(caller, named)
