"""`GET /api/esp32/poll`: the board asks whether its motor may run."""

from starlette.requests import Request
from starlette.responses import JSONResponse

from pumppilot.api.bearer import bearer_token
from pumppilot.api.device.responses import device_answer, device_error
from pumppilot.engines.devices import DeviceReport, PollAnswer
from pumppilot.errors import BadUserInput, PumpPilotError
from pumppilot.runtime import Runtime

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})
MAX_FIRMWARE_LENGTH = 32
MAX_UPTIME_DIGITS = 10


async def poll_endpoint(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    params = request.query_params
    try:
        answer = await runtime.boards.poll(
            admin_id=params.get("adminId", ""),
            device_id=params.get("deviceId", ""),
            key=bearer_token(request.headers.get("authorization")),
            report=DeviceReport(
                load_shedding=_flag(params.get("loadShedding"), "loadShedding"),
                ready=_flag(params.get("ready"), "ready"),
                output_on=_flag(params.get("output"), "output"),
                firmware=_firmware(params.get("fw")),
                uptime_seconds=_uptime(params.get("uptime")),
            ),
        )
    except PumpPilotError as exc:
        return device_error(exc)

    return device_answer(_body(answer))


def _flag(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None

    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadUserInput(f"{name} must be 1 or 0")


def _firmware(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > MAX_FIRMWARE_LENGTH or not value.isascii() or not value.isprintable():
        raise BadUserInput(f"fw is at most {MAX_FIRMWARE_LENGTH} printable ASCII characters")
    return value


def _uptime(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > MAX_UPTIME_DIGITS:
        raise BadUserInput("uptime must be whole seconds since the board started")
    return int(value)


def _body(answer: PollAnswer) -> dict[str, object]:
    return {
        "adminId": answer.admin_id,
        "motor": "ON" if answer.motor_on else "OFF",
        "state": answer.state,
        "holdReason": answer.hold_reason,
        "remainingSeconds": answer.remaining_seconds,
        "leaseSeconds": answer.lease_seconds,
        "pollSeconds": answer.poll_seconds,
        "seq": answer.seq,
        "serverTime": answer.server_time,
    }
