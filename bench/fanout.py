"""Subscription fan-out: one worker, many live `queueChanged` subscribers.

Two servers run as separate processes, one after the other: a bare Strawberry app
(`bench/bare.py`, default settings, state in memory) and a real PumpPilot worker over a
store process and Redis. The same number of websocket clients subscribe to a queue of
the same shape on each; then the bench fires events one at a time and times each
client's message from the moment of the event.

On the bare app the event is a `POST /fire`. On PumpPilot this process acts as a second
worker: it changes the queue through the engines (a user joins or leaves it) and the
engines publish the event over Redis; the clock starts as that event is published. The
worker under test then hears it, reads the queue once, and sends it to every subscriber.

Cost is the server's CPU time per delivered message, read from /proc; memory is the
growth of the server's resident set while the subscribers connect, per connection.

    python -m bench.fanout                  # 1,000 subscribers, 20 events
    python -m bench.fanout --smoke          # 50 subscribers, 3 events
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.measure import Process, quantile
from bench.seeding import bench_tokens, seed_queue
from pumppilot import events as event_bus
from pumppilot.clock import SystemClock
from pumppilot.engines import queue
from pumppilot.events import TenantEvent
from pumppilot.events.redis_bus import RedisBus
from tests.process import SECRET, free_port, redis_reachable, shared_store, wait_until_up

PROTOCOL = Subprotocol("graphql-transport-ws")
RUN = "{ id userName status position remainingSeconds }"
QUERY = f"subscription {{ queueChanged {{ version active {RUN} waiting {RUN} }} }}"
CONNECT_BATCH = 50
EVENT_TIMEOUT = 30.0
REDIS_URL = "redis://127.0.0.1:6379/13"


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    spans: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    memory_bytes: int = 0


class Subscribers:
    """Many graphql-transport-ws clients, each counting when its messages arrive."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.connections: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()

    async def open(self, url: str, tokens: list[str | None]) -> None:
        for start in range(0, len(tokens), CONNECT_BATCH):
            batch = tokens[start : start + CONNECT_BATCH]
            await asyncio.gather(*(self._subscribe(url, token) for token in batch))

    async def _subscribe(self, url: str, token: str | None) -> None:
        connection = await connect(url, subprotocols=[PROTOCOL], max_queue=None)
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        acknowledged = json.loads(await connection.recv())
        if acknowledged["type"] != "connection_ack":
            raise RuntimeError(f"connection refused: {acknowledged}")

        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": QUERY}}
        await connection.send(json.dumps(subscribe))
        first = json.loads(await connection.recv())
        if first["type"] != "next" or "errors" in first["payload"]:
            raise RuntimeError(f"subscription failed: {first}")
        self.connections.append(connection)
        self.readers.append(asyncio.create_task(self._read(connection)))

    async def _read(self, connection: ClientConnection) -> None:
        async for _ in connection:
            self.arrivals.append(time.perf_counter())
            self.changed.set()

    async def expect(self, count: int) -> list[float]:
        """Wait for `count` more messages; their arrival times."""
        async with asyncio.timeout(EVENT_TIMEOUT):
            while len(self.arrivals) < count:
                self.changed.clear()
                await self.changed.wait()
        arrived, self.arrivals = self.arrivals[:count], self.arrivals[count:]
        return arrived

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*(connection.close() for connection in self.connections))


async def _measure(
    server: Process,
    url: str,
    tokens: list[str | None],
    fire: Callable[[int], Awaitable[float]],
    events: int,
) -> Figures:
    figures = Figures()
    before = server.resident_bytes()
    subscribers = Subscribers()
    await subscribers.open(url, tokens)
    figures.memory_bytes = (server.resident_bytes() - before) // len(tokens)

    cpu_before = server.cpu_seconds()
    for number in range(events):
        sent = await fire(number)
        arrived = await subscribers.expect(len(tokens))
        figures.latencies.extend(moment - sent for moment in arrived)
        figures.spans.append(max(arrived) - sent)
        # Let the server go quiet, so one event's fan-out does not overlap the next.
        await asyncio.sleep(0.1)
    figures.cpu_seconds = server.cpu_seconds() - cpu_before

    await subscribers.close()
    return figures


async def _bare(count: int, events: int) -> Figures:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bare", "--port", str(port), stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_until_up(f"{base}/graphql?query=%7Bhello%7D")
        async with httpx.AsyncClient(base_url=base) as client:

            async def fire(_: int) -> float:
                sent = time.perf_counter()
                (await client.post("/fire")).raise_for_status()
                return sent

            return await _measure(
                Process(process.pid), f"ws://127.0.0.1:{port}/graphql", [None] * count, fire, events
            )
    finally:
        process.terminate()
        await process.wait()


async def _pumppilot(count: int, events: int) -> Figures:
    with tempfile.TemporaryDirectory() as scratch:
        async with shared_store(Path(scratch)) as (uri, settings):
            seeded = await seed_queue(settings, waiting=10)
            tokens = await bench_tokens(settings, seeded.tenant, count)
            bus = TimedBus(REDIS_URL)
            await bus.start()
            event_bus.use_bus(bus)
            port = free_port()
            environment = {
                **os.environ,
                "MONGODB_URI": uri,
                "REDIS_URL": REDIS_URL,
                "PUMPPILOT_DATABASE": settings.database,
                "PUMPPILOT_TOKEN_SECRET": SECRET,
                "PUMPPILOT_PORT": str(port),
                "PUMPPILOT_OFFLINE_AFTER_SECONDS": str(settings.offline_after_seconds),
                "PUMPPILOT_LOG_LEVEL": "WARNING",
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pumppilot", "serve", env=environment, cwd=scratch
            )
            try:
                await wait_until_up(f"http://127.0.0.1:{port}/healthz")
                trigger = seeded.tenant.user_id("trigger")
                clock = SystemClock()

                async def fire(number: int) -> float:
                    # Joining and leaving the queue each change it; the first event counts.
                    bus.first_queue_event = None
                    change = queue.stop_run if number % 2 else _join
                    await change(
                        tenant_id=seeded.tenant.id, user_id=trigger, settings=settings, clock=clock
                    )
                    assert bus.first_queue_event is not None
                    return bus.first_queue_event

                return await _measure(
                    Process(process.pid), f"ws://127.0.0.1:{port}/graphql", tokens, fire, events
                )
            finally:
                process.terminate()
                await process.wait()
                await bus.close()


async def _join(**arguments: object) -> object:
    return await queue.start_run(minutes=5, **arguments)  # type: ignore[arg-type]


class TimedBus(RedisBus):
    """The Redis bus, noting when the first queue event after a change goes out."""

    first_queue_event: float | None = None

    async def publish(self, event: TenantEvent) -> None:
        if event.kind == "queue" and self.first_queue_event is None:
            self.first_queue_event = time.perf_counter()
        await super().publish(event)


def _report(name: str, figures: Figures, count: int) -> None:
    deliveries = len(figures.latencies)
    spans = sorted(figures.spans)
    print(f"  {name}")
    print(f"    latency p50          {quantile(figures.latencies, 50) * 1000:8.1f} ms")
    print(f"    latency p99          {quantile(figures.latencies, 99) * 1000:8.1f} ms")
    print(f"    whole fan-out p50    {spans[len(spans) // 2] * 1000:8.1f} ms")
    print(f"    deliveries/s         {count / spans[len(spans) // 2]:8.0f}")
    print(f"    server CPU/delivery  {figures.cpu_seconds / deliveries * 1e6:8.1f} µs")
    print(f"    memory/connection    {figures.memory_bytes / 1024:8.1f} KiB")


async def main(count: int, events: int) -> None:
    if not await redis_reachable(REDIS_URL):
        raise SystemExit(
            "bench.fanout needs Redis at 127.0.0.1:6379 (redis-server --daemonize yes)"
        )
    bare = await _bare(count, events)
    ours = await _pumppilot(count, events)

    print(f"fan-out bench ({count} subscribers on one worker, {events} events)")
    _report("bare Strawberry", bare, count)
    _report("PumpPilot", ours, count)
    ratio = (ours.cpu_seconds / len(ours.latencies)) / (bare.cpu_seconds / len(bare.latencies))
    print(f"  cost ratio (CPU per delivery)  {ratio:5.2f}x the bare baseline")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="a short run that checks the bench")
    arguments = parser.parse_args()
    if arguments.smoke:
        arguments.subscribers, arguments.events = 50, 3
    asyncio.run(main(arguments.subscribers, arguments.events))
