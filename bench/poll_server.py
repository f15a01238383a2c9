"""The service as `pumppilot serve` runs it, plus a bare endpoint for comparison.

`GET /bench/bare` answers a fixed JSON object the size of a poll answer, with nothing
behind it: the floor that Starlette and uvicorn set on this machine. Settings come from
the environment, as for `pumppilot serve`.

    python -m bench.poll_server
"""

from starlette.requests import Request
from starlette.responses import JSONResponse

from pumppilot.app import create_app
from pumppilot.cli import run_server
from pumppilot.config import load_settings

FIXED = {
    "adminId": "6a1f0c2e9b7d4a3c5e8f1b20",
    "motor": "ON",
    "state": "RUNNING",
    "holdReason": None,
    "remainingSeconds": 1740,
    "leaseSeconds": 15,
    "pollSeconds": 5,
    "seq": 42,
    "serverTime": 1796302002,
}


async def bare(request: Request) -> JSONResponse:
    return JSONResponse(FIXED)


if __name__ == "__main__":
    settings = load_settings()
    application = create_app(settings)
    application.add_route("/bench/bare", bare, methods=["GET"])
    run_server(application, settings)
