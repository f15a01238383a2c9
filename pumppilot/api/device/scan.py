"""`POST /api/esp32/scan`: a card was held to the board's reader."""

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from pumppilot.api.bearer import bearer_token
from pumppilot.api.device.responses import device_answer, device_error
from pumppilot.api.encoding import encodable
from pumppilot.engines import devices
from pumppilot.errors import BadUserInput, PumpPilotError
from pumppilot.runtime import Runtime

MAX_BODY_BYTES = 1024


async def scan_endpoint(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        fields = await _fields(request)
        result = await devices.scan(
            admin_id=fields.get("adminId", ""),
            device_id=fields.get("deviceId", ""),
            key=bearer_token(request.headers.get("authorization")),
            card_id=fields.get("cardId", ""),
            settings=runtime.settings,
            clock=runtime.clock,
        )
    except PumpPilotError as exc:
        return device_error(exc)

    return device_answer({"action": result.action.value, "state": result.run.status.value})


async def _fields(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadUserInput(f"a scan is at most {MAX_BODY_BYTES} bytes")
    try:
        decoded = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadUserInput("the body must be a JSON object") from exc
    if not isinstance(decoded, dict) or not encodable(decoded):
        raise BadUserInput("the body must be a JSON object of valid Unicode text")
    return {key: value for key, value in decoded.items() if isinstance(value, str)}
