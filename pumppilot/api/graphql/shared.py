"""Streams that many subscribers share: each event is executed once per document.

A tenant's queue changes once and a thousand phones want it. A subscription that yields
`Shared(value)` lets every subscriber with the same document and variables reuse one
execution of that value, and the view reuses one JSON encoding of it. Values shared this
way must look the same to everyone who receives them, so the subscription chooses what
to share (one payload per visibility, say), and anything personal is not wrapped.
"""

import json
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, cast

from graphql import ExecutionResult, OperationDefinitionNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from pumppilot.api.graphql import direct

# Encodings kept for reuse; a few per tenant with an open stream is plenty.
ENCODED_KEPT = 256


class Shared[T]:
    """A stream payload that several subscriptions receive as the same object."""

    __slots__ = ("results", "value")

    def __init__(self, value: T) -> None:
        self.value = value
        self.results: dict[tuple[int, str], tuple[OperationDefinitionNode, dict[str, Any]]] = {}


def shared[T](value: T) -> T:
    # Typed as the value itself: the schema types the stream by what it carries, and
    # SharingExecutor unwraps the payload before any resolver sees it.
    return cast(T, Shared(value))


class SharingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a `Shared` payload once per operation and variables, then reuses it."""

    shared: Shared[Any] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A subscription's executor is also the template its later messages reuse.
        direct.claim_executor(self)

    def build_per_event_executor(self, payload: Any) -> "SharingExecutor":
        if not isinstance(payload, Shared):
            return cast("SharingExecutor", super().build_per_event_executor(payload))
        executor = cast("SharingExecutor", super().build_per_event_executor(payload.value))
        executor.shared = payload
        return executor

    def known_result(self, payload: Shared[Any]) -> dict[str, Any] | None:
        """The data this operation already made of `payload`, if any subscriber asked."""
        known = payload.results.get(self._key())
        # The node is kept with its result, so an id reused by a later document never matches.
        if known is not None and known[0] is self.operation:
            return known[1]
        return None

    def _key(self) -> tuple[int, str]:
        return (id(self.operation), _variables_key(self.variable_values.coerced))

    def execute_operation(self, serially: bool | None = None) -> Any:
        if self.shared is None:
            return super().execute_operation(serially)

        known = self.known_result(self.shared)
        if known is not None:
            return ExecutionResult(data=known, errors=None)

        key = self._key()
        result = super().execute_operation(serially)
        if isinstance(result, Awaitable):
            return self._keep_later(key, result)
        self._keep(key, result)
        return result

    async def _keep_later(self, key: tuple[int, str], pending: Awaitable[Any]) -> Any:
        result = await pending
        self._keep(key, result)
        return result

    def _keep(self, key: tuple[int, str], result: Any) -> None:
        # Errors can depend on the subscriber, so only clean results are shared.
        if self.shared is not None and isinstance(result, ExecutionResult) and not result.errors:
            assert result.data is not None
            self.shared.results[key] = (self.operation, result.data)


def _variables_key(variables: dict[str, Any]) -> str:
    return json.dumps(variables, sort_keys=True, default=str)


class EncodedPayloads:
    """The JSON of shared results, so a thousand `next` messages cost one encoding."""

    def __init__(self) -> None:
        self._kept: OrderedDict[int, tuple[dict[str, Any], str]] = OrderedDict()

    def encode(self, message: dict[str, Any]) -> str | None:
        """The message as JSON when its payload is a plain result; None otherwise."""
        payload = message.get("payload")
        if (
            message.get("type") != "next"
            or not isinstance(payload, dict)
            or payload.keys() != {"data"}
        ):
            return None
        data = payload["data"]
        if not isinstance(data, dict):
            return None

        known = self._kept.get(id(data))
        if known is None or known[0] is not data:
            known = (data, json.dumps(payload, separators=(",", ":")))
            self._kept[id(data)] = known
            if len(self._kept) > ENCODED_KEPT:
                self._kept.popitem(last=False)
        return f'{{"id":{json.dumps(message["id"])},"type":"next","payload":{known[1]}}}'
