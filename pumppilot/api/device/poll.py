"""`GET /api/esp32/poll`: the board asks whether its motor may run."""

from functools import lru_cache
from urllib.parse import parse_qsl

import orjson
from starlette.types import Receive, Scope, Send

from pumppilot.api.bearer import bearer_token
from pumppilot.api.device.responses import NO_STORE, device_error
from pumppilot.engines.devices import DeviceReport, PollAnswer
from pumppilot.errors import BadUserInput, PumpPilotError
from pumppilot.runtime import Runtime

TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
FALSE_WORDS = frozenset({"0", "false", "off", "no"})
MAX_FIRMWARE_LENGTH = 32
MAX_UPTIME_DIGITS = 10


class PollEndpoint:
    """A plain ASGI app, which Starlette routes to without building a request object or
    a response around it: boards poll every few seconds each, so what a poll costs bounds
    how many boards a worker serves."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _poll(scope, receive, send)


async def _poll(scope: Scope, receive: Receive, send: Send) -> None:
    runtime: Runtime = scope["app"].state.runtime
    params = _parameters(scope["query_string"])
    try:
        answer = await runtime.boards.poll(
            admin_id=params.get("adminId", ""),
            device_id=params.get("deviceId", ""),
            key=bearer_token(_header(scope, b"authorization")),
            report=DeviceReport(
                load_shedding=_flag(params.get("loadShedding"), "loadShedding"),
                ready=_flag(params.get("ready"), "ready"),
                output_on=_flag(params.get("output"), "output"),
                firmware=_firmware(params.get("fw")),
                uptime_seconds=_uptime(params.get("uptime")),
            ),
        )
    except PumpPilotError as exc:
        await device_error(exc)(scope, receive, send)
        return

    body = _rendered(answer)
    # A fresh list: a middleware may add to the headers of the message it passes on.
    headers = list(_headers(len(body)))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


@lru_cache(maxsize=64)
def _headers(length: int) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"content-type", b"application/json"),
        (b"content-length", str(length).encode()),
        (b"cache-control", NO_STORE["Cache-Control"].encode()),
    )


def _parameters(query_string: bytes) -> dict[str, str]:
    """The query's parameters, the last of any repeated one winning, as Starlette does.

    Boards send plain names, ids and digits, so the common query is split directly; one
    with escapes goes through the standard parser.
    """
    text = query_string.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, keep_blank_values=True))
    found: dict[str, str] = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        found[name] = value
    return found


def _rendered(answer: PollAnswer) -> bytes:
    # orjson, as the answer is encoded at every poll: the standard encoder took a tenth
    # of a busy worker's time here.
    return orjson.dumps(_body(answer))


def _flag(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    # What the firmware sends, decided before the general case.
    if value == "1":
        return True
    if value == "0":
        return False

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
