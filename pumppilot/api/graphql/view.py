"""The GraphQL endpoint: Strawberry's ASGI view with JSON errors and status codes."""

import json
from datetime import timedelta
from http import HTTPStatus
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

from pumppilot.api.bearer import bearer_token
from pumppilot.api.encoding import encodable
from pumppilot.api.graphql.answers import AnswerCache, Key, Stamp, answer_key, reusable
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.direct import DirectHandler
from pumppilot.api.graphql.errors import REQUEST_ERROR_CODES
from pumppilot.api.graphql.shared import EncodedPayloads
from pumppilot.errors import PumpPilotError
from pumppilot.runtime import Runtime

REQUEST_ERROR = "BAD_REQUEST"
# Enough for every stream a dashboard shows at once, and far from enough to flood a worker.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = DirectHandler

    def __init__(self, schema: Any, runtime: Runtime) -> None:
        # Only graphql-transport-ws: the legacy graphql-ws protocol has had auth bypasses.
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # A socket that never says who it is gets closed (4408) instead of lingering.
            connection_init_wait_timeout=timedelta(seconds=runtime.settings.ws_init_seconds),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.runtime = runtime
        self.answers = AnswerCache()
        self.encoded = EncodedPayloads()

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
            response = await self._answer(Request(scope, receive))
        except HTTPException as exc:
            # Strawberry answers plain text here; clients expect JSON errors everywhere.
            response = json_error(exc.reason, REQUEST_ERROR, exc.status_code)
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str | bytes:
        # Stream messages of a shared result reuse its encoding (see shared.py).
        if isinstance(data, dict) and (encoded := self.encoded.encode(data)) is not None:
            return encoded
        return super().encode_json(data)

    async def _answer(self, request: Request) -> Response:
        reuse = await self._reuse_key(request)
        if reuse is None or not self.runtime.settings.reuse_answers:
            return await self.run(request)

        key, stamp = reuse
        kept = self.answers.get(key, stamp)
        if kept is not None:
            return Response(kept, media_type="application/json")
        response = await self.run(request)
        # Answers with errors are not kept: they may be about this moment (a throttle).
        if response.status_code == HTTPStatus.OK and b'"errors"' not in response.body:
            self.answers.put(key, stamp, bytes(response.body))
        return response

    async def _reuse_key(self, request: Request) -> tuple[Key, Stamp] | None:
        """Where a read-only answer may be kept, or None when it must run every time."""
        token = bearer_token(request.headers.get("authorization"))
        asked = await _read_only_request(request)
        if token is None or asked is None:
            return None
        query, variables, name = asked

        runtime = self.runtime
        try:
            caller = await runtime.sessions.authenticate(
                token, signer=runtime.signer, clock=runtime.clock, address=None
            )
        except PumpPilotError:
            return None
        watch = runtime.watches.current(caller.tenant_id) if caller.tenant_id else None
        if watch is None:
            return None
        second = int(runtime.clock.now().timestamp())
        stamp = (watch.epoch, watch.generation, second)
        return answer_key(str(caller.session_id), query, variables, name), stamp

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


async def _read_only_request(request: Request) -> tuple[str, object, str | None] | None:
    """The query, variables and operation name of a POST that only reads reusable fields."""
    if request.method != "POST":
        return None
    try:
        body = json.loads(await request.body())
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None

    query, variables, name = body.get("query"), body.get("variables"), body.get("operationName")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return None
    return (query, variables, name) if reusable(query, name) else None


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
