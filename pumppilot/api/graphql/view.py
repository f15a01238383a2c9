"""The GraphQL endpoint: Strawberry's ASGI view with JSON errors and status codes."""

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from pumppilot.api.encoding import encodable
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.errors import REQUEST_ERROR_CODES
from pumppilot.errors import PumpPilotError
from pumppilot.runtime import Runtime

REQUEST_ERROR = "BAD_REQUEST"


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: Any, runtime: Runtime) -> None:
        # Only graphql-transport-ws: the legacy graphql-ws protocol has had auth bypasses.
        super().__init__(
            schema, graphql_ide="graphiql", subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        )
        self.runtime = runtime

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        # The token comes in connection_init; a connection without a valid one is closed.
        try:
            await context.caller()
        except PumpPilotError as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from exc
        return None

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = super().decode_json(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "the request body must be UTF-8") from exc
        # Strawberry expects an object here (a list only when batching, which is off).
        if not isinstance(decoded, dict):
            raise HTTPException(400, "the request body must be a JSON object")
        if not encodable(decoded):
            raise HTTPException(400, "the request holds text that is not valid Unicode")
        return decoded

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(self.runtime, request, response)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return

        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            # Strawberry answers plain text here; clients expect JSON errors everywhere.
            response = json_error(exc.reason, REQUEST_ERROR, exc.status_code)
        await response(scope, receive, send)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(response_data, dict) and _is_request_error(response_data):
            # A document that could not run at all is a bad request, as GraphQL over HTTP says.
            response.status_code = 400
        return response


def json_error(message: str, code: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


def _is_request_error(response: GraphQLHTTPResponse) -> bool:
    errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
    if response.get("data") is not None or not errors:
        return False
    # Errors raised while resolving carry a path; those of the document itself do not.
    return all(
        "path" not in error and (error.get("extensions") or {}).get("code") in REQUEST_ERROR_CODES
        for error in errors
    )
