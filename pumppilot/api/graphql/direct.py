"""Sending a shared stream's later messages straight to its socket.

After the first message of a subscription, each change would pass through graphql-core's
event mapping, Strawberry's result handling and its extensions, and the protocol handler,
once per subscriber: most of the cost of a fan-out to a thousand phones. A shared payload
(`shared.py`) has already been executed and encoded once for everyone with the same
document, so a stream hands it to `DirectSend`, which looks up that result and writes the
`next` message itself. Anything else (an error, a personal payload, a first message)
takes Strawberry's path as usual.
"""

import contextlib
import contextvars
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult, OperationType
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

if TYPE_CHECKING:
    from pumppilot.api.graphql.shared import Shared, SharingExecutor


class DirectSend:
    """One subscription operation's way to its socket, set up by the handler below."""

    def __init__(self, handler: "DirectHandler", operation: Operation[Any, Any]) -> None:
        self._handler = handler
        self._operation = operation
        # Set by SharingExecutor when graphql-core builds the operation's executor.
        self.executor: SharingExecutor | None = None

    async def send(self, payload: "Shared[Any]") -> bool:
        """Send `payload` as the operation's next message; False if it must be yielded."""
        if self.executor is None or self._operation.completed:
            return False

        data = self.executor.known_result(payload)
        if data is None:
            result = self.executor.build_per_event_executor(payload).execute_operation(False)
            if isawaitable(result):
                result = await result
            if not isinstance(result, ExecutionResult) or result.errors:
                # Errors get their codes from the schema's extensions on Strawberry's path.
                return False
            data = result.data

        message = {"id": self._operation.id, "type": "next", "payload": {"data": data}}
        # If the socket is gone, the handler is about to cancel this operation anyway.
        with contextlib.suppress(WebSocketDisconnected):
            await self._handler.send_message(message)  # type: ignore[arg-type]
        return True


_current: contextvars.ContextVar[DirectSend | None] = contextvars.ContextVar(
    "direct_send", default=None
)


def current() -> DirectSend | None:
    """The running subscription's direct way to its socket, if it has one."""
    return _current.get()


def claim_executor(executor: "SharingExecutor") -> None:
    """Called as an executor is built: a subscription's becomes its operation's template."""
    direct = _current.get()
    if (
        direct is not None
        and direct.executor is None
        and executor.operation.operation is OperationType.SUBSCRIPTION
    ):
        direct.executor = executor


class DirectHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws, with each operation's task knowing its way to the socket."""

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        # The operation runs in its own task, so this is seen by its resolver alone.
        _current.set(DirectSend(self, operation))
        await super().run_operation(operation)
