"""The service as `pumppilot serve` runs it, plus a bare endpoint for comparison.

`GET /bench/bare` answers a fixed JSON object the size of a poll answer, with nothing
behind it: the floor that Starlette and uvicorn set on this machine. `GET /bench/gc`
says how long the garbage collector has paused the process, per generation, so a tail
in the latencies can be told from a collection. Settings come from the environment, as
for `pumppilot serve`.

    python -m bench.poll_server
"""

import gc
import time

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


class Pauses:
    """Every collection's duration, by generation."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def heard(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seconds[info["generation"]].append(time.perf_counter() - self.started)

    async def endpoint(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                str(generation): {
                    "collections": len(pauses),
                    "max_ms": round(max(pauses, default=0.0) * 1000, 1),
                    "total_ms": round(sum(pauses) * 1000),
                    "over_20_ms": sum(pause > 0.02 for pause in pauses),
                }
                for generation, pauses in self.seconds.items()
            }
        )


if __name__ == "__main__":
    settings = load_settings()
    application = create_app(settings)
    application.add_route("/bench/bare", bare, methods=["GET"])
    pauses = Pauses()
    gc.callbacks.append(pauses.heard)
    application.add_route("/bench/gc", pauses.endpoint, methods=["GET"])
    run_server(application, settings)
