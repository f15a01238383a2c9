"""Simulated boards: many keep-alive connections polling a server as real boards would.

Each board holds one HTTP/1.1 connection and polls `/api/esp32/poll` every interval,
starting at a random offset so the fleet spreads over the interval. The client is plain
asyncio streams rather than an HTTP library, so that one process can drive thousands of
boards without becoming the bottleneck it is meant to measure.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

import uvloop

# A board whose answer takes longer than this counts as an error.
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class SimulatedBoard:
    admin_id: str
    device_id: str
    key: str


@dataclass
class FleetFigures:
    latencies: list[float] = field(default_factory=list)
    # The latencies of polls that had to open their connection first, also in `latencies`.
    connecting: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    motor_on: int = 0

    @property
    def polls(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @property
    def open(self) -> bool:
        return self._writer is not None

    def request(self, target: str, headers: dict[str, str]) -> bytes:
        """The bytes of a GET request, to build once and send many times."""
        lines = [f"GET {target} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def get(self, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.send(self.request(target, headers))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send a request built by `request` and return the answer's status and body."""
        reused = self._writer is not None
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            # A kept-alive connection the server has closed meanwhile: open a new one and
            # ask once more, as browsers, libcurl and the ESP32's HTTPClient do.
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.close()
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(request)

        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self._reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None


def poll_target(board: SimulatedBoard, path: str = "/api/esp32/poll") -> str:
    query = {"adminId": board.admin_id, "deviceId": board.device_id, "loadShedding": "0"}
    return f"{path}?{urlencode(query | {'ready': '1', 'fw': 'sim-1', 'uptime': '1'})}"


def run_fast[T](main: Coroutine[Any, Any, T]) -> T:
    """Run a fleet's event loop on uvloop (which uvicorn also uses): with thousands of
    boards, a plain asyncio loop in the driving process becomes the slowest part."""
    return asyncio.run(main, loop_factory=uvloop.new_event_loop)


async def run_fleet(
    base_url: str,
    boards: list[SimulatedBoard],
    *,
    interval: float,
    duration: float,
    path: str = "/api/esp32/poll",
    on_poll: Callable[[], None] | None = None,
) -> FleetFigures:
    """Poll with every board every `interval` seconds for `duration` seconds."""
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    figures = FleetFigures()
    deadline = time.monotonic() + duration

    async def board_loop(board: SimulatedBoard) -> None:
        connection = Connection(host, port)
        headers = {"Authorization": f"Bearer {board.key}"}
        request = connection.request(poll_target(board, path), headers)
        # Not a secret: only spreads the boards over the interval.
        next_at = time.monotonic() + random.uniform(0, interval)  # noqa: S311
        try:
            while True:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                if time.monotonic() >= deadline:
                    return
                await _one_poll(connection, request, figures)
                if on_poll is not None:
                    on_poll()
                next_at += interval
        finally:
            await connection.close()

    await asyncio.gather(*(board_loop(board) for board in boards))
    return figures


async def _one_poll(connection: Connection, request: bytes, figures: FleetFigures) -> None:
    connecting = not connection.open
    started = time.perf_counter()
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            status, body = await connection.send(request)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        figures.error(type(exc).__name__)
        await connection.close()
        return
    if status != HTTPStatus.OK:
        figures.error(f"HTTP {status}")
        return
    latency = time.perf_counter() - started
    figures.latencies.append(latency)
    if connecting:
        figures.connecting.append(latency)
    if b'"motor":"ON"' in body:
        figures.motor_on += 1
