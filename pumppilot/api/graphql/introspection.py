"""In production, only admins may introspect the schema (as GraphiQL does)."""

from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import FieldNode, GraphQLError, Node, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from pumppilot.api.graphql.context import Context
from pumppilot.errors import Forbidden, PumpPilotError
from pumppilot.models import Role

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class _FindIntrospection(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> None:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True


def asks_for_introspection(document: Node) -> bool:
    finder = _FindIntrospection()
    visit(document, finder)
    return finder.found


class AdminOnlyIntrospection(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if (
            isinstance(context, Context)
            and context.runtime.settings.production
            and document is not None
            and asks_for_introspection(document)
            and not await _is_admin(context)
        ):
            refusal = Forbidden("schema introspection is for admins; log in as one")
            error = GraphQLError(refusal.message, original_error=refusal)
            # A result set before execution makes Strawberry skip the resolvers entirely.
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield


async def _is_admin(context: Context) -> bool:
    try:
        caller = await context.caller()
    except PumpPilotError:
        return False
    return caller.role in (Role.ADMIN, Role.MASTER)
