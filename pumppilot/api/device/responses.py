"""JSON answers for boards. Every error answer says motor OFF, so a board fails safe."""

from starlette.responses import JSONResponse

from pumppilot.errors import PumpPilotError, RateLimited

STATUS_BY_CODE = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "SUSPENDED": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "CONFLICT": 409,
    "INSUFFICIENT_BALANCE": 409,
    "RATE_LIMITED": 429,
}
NO_STORE = {"Cache-Control": "no-store"}


def device_answer(body: dict[str, object]) -> JSONResponse:
    return JSONResponse(body, headers=NO_STORE)


def device_error(exc: PumpPilotError) -> JSONResponse:
    response = device_failure(exc.code, exc.message, STATUS_BY_CODE.get(exc.code, 500))
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


def device_failure(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse(
        {"motor": "OFF", "error": {"code": code, "message": message}},
        status_code=status,
        headers=NO_STORE,
    )
