"""Who is making a request, as established from their token and session."""

from dataclasses import dataclass

from beanie import PydanticObjectId

from pumppilot.errors import Forbidden
from pumppilot.models import Role


@dataclass(frozen=True)
class Caller:
    account_id: PydanticObjectId
    role: Role
    # The caller's own tenant; None for the master admin, who names tenants explicitly.
    tenant_id: PydanticObjectId | None
    session_id: PydanticObjectId
    name: str
    address: str | None = None

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(role.value.lower() for role in roles)
            raise Forbidden(f"only a {allowed} may do this")

    def own_tenant(self) -> PydanticObjectId:
        """The tenant of an admin or user; the master has none and must name one."""
        if self.tenant_id is None:
            raise Forbidden("this needs an admin or user account")
        return self.tenant_id


def acting_as(admin_id: PydanticObjectId, role: Role, name: str) -> Caller:
    """A caller for work done from the command line on an account's behalf (the demo)."""
    return Caller(
        account_id=admin_id,
        role=role,
        tenant_id=admin_id if role is Role.ADMIN else None,
        session_id=PydanticObjectId(),
        name=name,
        address="command line",
    )
