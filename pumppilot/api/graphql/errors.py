"""Every GraphQL error leaves with `extensions.code`; unexpected ones leave masked."""

import logging
import re
from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult

from pumppilot.errors import PumpPilotError

log = logging.getLogger(__name__)


PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
SUGGESTION = re.compile(r" Did you mean .*\?$")
REQUEST_ERROR_CODES = frozenset({PARSE_FAILED, VALIDATION_FAILED, BAD_USER_INPUT, "BAD_REQUEST"})


def is_unexpected(error: GraphQLError) -> bool:
    """True for a fault in our code, as opposed to a refusal or a bad document."""
    original = error.original_error
    return original is not None and not isinstance(original, PumpPilotError | GraphQLError)


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, PumpPilotError):
        return _with(error, original.message, original.code, original, original.extensions())

    if is_unexpected(error):
        return _with(error, "internal error; it has been logged", INTERNAL, None)

    code = (error.extensions or {}).get("code")
    if isinstance(code, str):
        return error
    return _with(error, error.message, _document_code(error), original)


def _document_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    # Variable values that do not fit their declared types are the caller's input.
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return VALIDATION_FAILED if error.path is None else INTERNAL


def _with(
    error: GraphQLError,
    message: str,
    code: str,
    original: Exception | None,
    extra: dict[str, object] | None = None,
) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions={**(error.extensions or {}), **(extra or {}), "code": code},
    )


class ErrorCodes(SchemaExtension):
    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Each message of a subscription passes here before it is sent.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [coded(error) for error in errors]  # type: ignore[union-attr]
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return

        errors = [coded(error) for error in result.errors]
        if any(SUGGESTION.search(error.message) for error in errors) and await _anonymous(
            self.execution_context.context
        ):
            # Field suggestions would map the schema for someone who has not logged in.
            errors = [_without_suggestion(error) for error in errors]
        result.errors = errors


async def _anonymous(context: object) -> bool:
    caller = getattr(context, "caller", None)
    if caller is None:
        return True
    try:
        await caller()
    except PumpPilotError:
        return True
    return False


def _without_suggestion(error: GraphQLError) -> GraphQLError:
    code = (error.extensions or {}).get("code", VALIDATION_FAILED)
    message = SUGGESTION.sub("", error.message)
    return _with(error, message, str(code), error.original_error)
