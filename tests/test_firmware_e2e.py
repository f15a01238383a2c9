"""The firmware's own logic against the real server: the core built for Linux with
libcurl (`firmware/host/`) polls a live PumpPilot, and its relay follows the run.

Needs g++ and libcurl's headers (CI installs them, see .ci/run); elsewhere it skips and
says so.
"""

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from tests.factories import Tenant, make_tenant
from tests.helpers import gql, login
from tests.live import live_server

FIRMWARE = Path(__file__).parent.parent / "firmware"
BOARD = FIRMWARE / "build" / "pumppilot-board"
LEASE_SECONDS = 3
CURL_HEADERS = ("/usr/include/x86_64-linux-gnu/curl/curl.h", "/usr/include/curl/curl.h")
WAIT = 15.0


class Board:
    """The host build of the board, with its relay read from what it prints."""

    def __init__(self, process: asyncio.subprocess.Process, inputs: Path) -> None:
        self.process = process
        self.inputs = inputs
        self.relay: list[tuple[float, str]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    def set_inputs(self, *, load_shedding: bool) -> None:
        self.inputs.write_text(f"loadShedding={int(load_shedding)}\nready=1\n")

    async def relay_becomes(self, state: str) -> float:
        """Wait until the relay is `state`; the moment it changed, by this process's clock."""
        async with asyncio.timeout(WAIT):
            while not self.relay or self.relay[-1][1] != state:
                self._changed.clear()
                await self._changed.wait()
        return self.relay[-1][0]

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode().strip()
            if line.startswith("relay "):
                self.relay.append((time.monotonic(), line.split()[1]))
                self._changed.set()


def _build_board() -> None:
    if shutil.which("g++") is None or not any(Path(p).exists() for p in CURL_HEADERS):
        pytest.skip("needs g++ and libcurl4-openssl-dev (CI installs them, see .ci/run)")
    subprocess.run(["make", "-s", "-C", str(FIRMWARE), "host"], check=True)


@pytest.fixture
async def quick_app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    quick = settings.model_copy(
        update={"poll_seconds": 1, "lease_seconds": LEASE_SECONDS, "offline_after_seconds": 60}
    )
    application = create_app(quick, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def _queue_state(http: httpx.AsyncClient, admin: str) -> str | None:
    body = await gql(http, "{ queue { active { status } } }", token=admin)
    active = body["data"]["queue"]["active"]
    return active["status"] if active else None


async def _state_becomes(http: httpx.AsyncClient, admin: str, status: str) -> None:
    # The run changes when the board's next poll reports; nothing here to wait on but that.
    async with asyncio.timeout(WAIT):
        while await _queue_state(http, admin) != status:  # noqa: ASYNC110
            await asyncio.sleep(0.2)


async def test_the_board_follows_the_run_and_fails_safe(
    quick_app: Starlette, clock: ManualClock, tmp_path: Path
):
    _build_board()
    tenant: Tenant = await make_tenant("field", clock, balances={"ann": 30})
    transport = httpx.ASGITransport(app=quick_app)
    http = httpx.AsyncClient(transport=transport, base_url="http://pumppilot.test")
    ann, admin = await login(http, "ann"), await login(http, "field-admin")
    inputs = tmp_path / "inputs.txt"

    async with live_server(quick_app) as address:
        process = await asyncio.create_subprocess_exec(
            str(BOARD),
            f"http://{address}",
            str(tenant.id),
            tenant.device_id,
            tenant.device_key,
            str(inputs),
            stdout=asyncio.subprocess.PIPE,
        )
        board = Board(process, inputs)
        board.set_inputs(load_shedding=False)
        try:
            await board.relay_becomes("OFF")
            await gql(http, "mutation { startMotor(minutes: 10) { id } }", token=ann)
            await board.relay_becomes("ON")

            board.set_inputs(load_shedding=True)
            await board.relay_becomes("OFF")
            await _state_becomes(http, admin, "HOLD")

            board.set_inputs(load_shedding=False)
            await board.relay_becomes("ON")
            await _state_becomes(http, admin, "RUNNING")
        except BaseException:
            process.kill()
            raise

    # The server is gone: the board must switch off within its lease.
    stopped = time.monotonic()
    off_at = await board.relay_becomes("OFF")
    process.terminate()
    await process.wait()
    await http.aclose()

    assert off_at - stopped <= LEASE_SECONDS
