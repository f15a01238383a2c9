"""Subscriptions are served over graphql-transport-ws only, never over plain HTTP."""

from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from pumppilot.api.graphql.context import Context

BAD_REQUEST = "BAD_REQUEST"


class SubscriptionsOverWebSocketOnly(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if (
            isinstance(context, Context)
            and not isinstance(context.request, WebSocket)
            and self.execution_context.operation_type is OperationType.SUBSCRIPTION
        ):
            error = GraphQLError(
                "subscriptions use a websocket with the graphql-transport-ws protocol",
                extensions={"code": BAD_REQUEST},
            )
            # A result set before execution makes Strawberry skip the resolvers entirely.
            self.execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
