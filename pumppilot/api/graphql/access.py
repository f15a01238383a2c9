"""Who may call each field, declared once and both enforced and published.

Every field carries `@access(roles: [...])` in the exported SDL (an empty list means
anyone may call it), so clients and the attack tests read the same rule the server runs.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location

from pumppilot.api.graphql.context import Context
from pumppilot.engines.caller import Caller
from pumppilot.models import Role


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="The roles that may call this field; an empty list means anyone may.",
)
class Access:
    roles: list[Role]


class RoleCheck(FieldExtension):
    """Refuses the call before the resolver runs unless the caller has one of the roles."""

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: strawberry.Info[Context, None],
        **kwargs: Any,
    ) -> Any:
        await authorize(info.context, self.roles)
        return await next_(source, info, **kwargs)


async def authorize(context: Context, roles: tuple[Role, ...]) -> Caller:
    caller = await context.caller()
    caller.require(*roles)
    return caller


def allow(*roles: Role) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field` and friends: only these roles may call."""
    return {"directives": [Access(roles=list(roles))], "extensions": [RoleCheck(roles)]}


def allow_in_resolver(*roles: Role) -> dict[str, Any]:
    """For subscriptions, which check `authorize` themselves when the stream opens."""
    return {"directives": [Access(roles=list(roles))]}


def public() -> dict[str, Any]:
    return {"directives": [Access(roles=[])]}
