"""Per-request context: the runtime and the caller, authenticated once per request."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from pumppilot.api.bearer import bearer_token
from pumppilot.engines import accounts
from pumppilot.engines.accounts import Caller
from pumppilot.errors import Unauthenticated
from pumppilot.runtime import Runtime


class Context:
    def __init__(
        self, runtime: Runtime, request: Request | WebSocket, response: Response | WebSocket
    ) -> None:
        self.runtime = runtime
        self.request = request
        self.response = response
        self._caller: Caller | None = None

    async def caller(self) -> Caller:
        if self._caller is not None:
            return self._caller

        token = bearer_token(self.request.headers.get("authorization"))
        if token is None:
            raise Unauthenticated("log in first and send the token as 'Authorization: Bearer …'")

        self._caller = await accounts.authenticate(
            token=token, signer=self.runtime.signer, clock=self.runtime.clock
        )
        return self._caller
