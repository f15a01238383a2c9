"""Per-request context: the runtime and the caller, authenticated once per request."""

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from pumppilot.api.bearer import bearer_token
from pumppilot.engines.caller import Caller
from pumppilot.errors import Unauthenticated
from pumppilot.runtime import Runtime


class Context:
    def __init__(
        self, runtime: Runtime, request: Request | WebSocket, response: Response | WebSocket
    ) -> None:
        self.runtime = runtime
        self.request = request
        self.response = response
        # Set by Strawberry from a websocket's connection_init payload.
        self.connection_params: dict[str, Any] | None = None
        self._caller: Caller | None = None

    @property
    def address(self) -> str | None:
        client = self.request.client
        return client.host if client is not None else None

    def token(self) -> str | None:
        if isinstance(self.request, WebSocket):
            params = self.connection_params or {}
            value = params.get("authorization") or params.get("Authorization")
            return bearer_token(value) if isinstance(value, str) else None
        return bearer_token(self.request.headers.get("authorization"))

    async def caller(self) -> Caller:
        # One context serves a whole websocket connection, so there it is asked each time
        # (of the worker's session cache): each operation must see a logout or suspension
        # that happened since the last.
        if self._caller is not None and not isinstance(self.request, WebSocket):
            return self._caller

        token = self.token()
        if token is None:
            raise Unauthenticated("log in first and send the token as 'Authorization: Bearer …'")

        runtime = self.runtime
        self._caller = await runtime.sessions.authenticate(
            token, signer=runtime.signer, clock=runtime.clock, address=self.address
        )
        return self._caller

    async def recheck(self) -> Caller:
        """Authenticate again, for long-lived streams whose session may have ended."""
        self._caller = None
        return await self.caller()
