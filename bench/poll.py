"""Device polls on one worker: against a bare endpoint, then a whole fleet.

The server is one `pumppilot serve` process (`bench/poll_server.py`, which adds a bare
Starlette endpoint answering a fixed JSON object) over a store process; this process
is the load. The fleet is many small tenants of five boards each, a few of them with a
RUNNING run (`bench/fleet_seed.py`). Every board polls once before anything is
measured, as on a server that has been running.

1. Saturation: `--connections` keep-alive connections send requests back to back for
   `--seconds`, first to the bare endpoint, then to the real poll. Both get the same
   requests, the boards' polls with their keys (each connection takes turns among its
   own boards), so the client and HTTP parsing cost the same and only the answering
   differs. Both rates and p99 come from the same server process. Boards may poll twice
   a second here; with too few boards for the rate, some polls are refused (429), which
   are cheap answers and flatter the poll's rate: the bench prints the statuses.
2. Fleet: `--devices` boards each poll every `--interval` seconds for `--duration`
   seconds, and the bench reports errors and latency.

    python -m bench.poll                    # 1,000 boards at 5 s for 60 s
    python -m bench.poll --devices 10000    # the fleet target
    python -m bench.poll --smoke            # a short run that checks the bench

The embedded store sets one limit here: seeding is slow, as it compares each new
document with every stored one, so 10,000 boards take about five minutes. Polls no
longer write per board (`pumppilot/presence.py`): the server writes one presence
document per flush, and each board's own last-seen time at a bounded rate.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.fleet_seed import seed_fleet
from bench.measure import quantile
from pumppilot.clock import SystemClock
from pumppilot.fleet import (
    Connection,
    FleetFigures,
    SimulatedBoard,
    poll_target,
    run_fast,
    run_fleet,
)
from pumppilot.live.boards import BURST
from pumppilot.models import Device
from tests.process import SECRET, free_port, shared_store, wait_until_up

REPOSITORY = Path(__file__).parent.parent
POLL_PATH = "/api/esp32/poll"
BARE_PATH = "/bench/bare"


@dataclass(frozen=True)
class Rate:
    per_second: float
    p99_ms: float
    statuses: dict[int, int]


async def _saturate(
    base: str, targets: list[list[tuple[str, dict[str, str]]]], seconds: float
) -> Rate:
    """Requests back to back on one connection per list of targets, for `seconds`."""
    port = int(base.rsplit(":", 1)[1])
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds

    async def loop(mine: list[tuple[str, dict[str, str]]]) -> None:
        connection = Connection("127.0.0.1", port)
        # Built beforehand, so that the load costs the server's core as little as it can.
        requests = [connection.request(target, headers) for target, headers in mine]
        turn = 0
        while time.monotonic() < deadline:
            request = requests[turn % len(requests)]
            turn += 1
            started = time.perf_counter()
            status, _ = await connection.send(request)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
        await connection.close()

    started = time.monotonic()
    await asyncio.gather(*(loop(mine) for mine in targets))
    elapsed = time.monotonic() - started
    return Rate(len(latencies) / elapsed, quantile(latencies, 99) * 1000, dict(statuses))


async def _warm(base: str, targets: list[list[tuple[str, dict[str, str]]]]) -> None:
    """Each target once, one connection per list of targets."""
    port = int(base.rsplit(":", 1)[1])

    async def loop(mine: list[tuple[str, dict[str, str]]]) -> None:
        connection = Connection("127.0.0.1", port)
        for target, headers in mine:
            await connection.get(target, headers)
        await connection.close()

    await asyncio.gather(*(loop(mine) for mine in targets))


def _split(
    boards: list[SimulatedBoard], connections: int, path: str
) -> list[list[tuple[str, dict[str, str]]]]:
    targets = [
        (poll_target(board, path), {"Authorization": f"Bearer {board.key}"}) for board in boards
    ]
    return [targets[start::connections] for start in range(connections)]


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with shared_store(Path(scratch)) as (uri, settings):
            boards = await seed_fleet(arguments.devices, arguments.running, settings)
            # Seeding many boards takes minutes; all of them polled "just now" as the server
            # starts, as they would have on a server that was already running.
            await Device.get_pymongo_collection().update_many(
                {}, {"$set": {"last_seen_at": SystemClock().now()}}
            )
            port = free_port()
            environment = {
                **os.environ,
                "MONGODB_URI": uri,
                "PUMPPILOT_DATABASE": settings.database,
                "PUMPPILOT_TOKEN_SECRET": SECRET,
                "PUMPPILOT_PORT": str(port),
                # Boards told to poll every second may poll twice a second before they are
                # refused (429): room for the saturation phase to spread over its boards.
                "PUMPPILOT_POLL_SECONDS": "1",
                "PUMPPILOT_OFFLINE_AFTER_SECONDS": str(arguments.offline_after),
                "PUMPPILOT_LOG_LEVEL": "WARNING",
                "PUMPPILOT_DATA_DIR": scratch,
            }
            server = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.poll_server", env=environment, cwd=REPOSITORY
            )
            try:
                base = f"http://127.0.0.1:{port}"
                await wait_until_up(f"{base}/healthz")
                # A running server has every tenant in memory; this one learns them now.
                await _warm(base, _split(boards, arguments.connections, POLL_PATH))
                # The same requests to both, so the client and the HTTP parsing cost the
                # same: only what answers them differs.
                bare = await _saturate(
                    base, _split(boards, arguments.connections, BARE_PATH), arguments.seconds
                )
                real = await _saturate(
                    base, _split(boards, arguments.connections, POLL_PATH), arguments.seconds
                )
                # Let the boards' allowances refill before they poll as a fleet.
                await asyncio.sleep(BURST / 2 + 1)
                fleet = await run_fleet(
                    base, boards, interval=arguments.interval, duration=arguments.duration
                )
                async with httpx.AsyncClient() as client:
                    collections = (await client.get(f"{base}/bench/gc")).json()
            finally:
                if server.returncode is None:
                    server.terminate()
                await server.wait()

    _report(arguments, bare, real, fleet)
    print("server's garbage collections (whole run)")
    for generation, figures in collections.items():
        print(f"  generation {generation}  {figures}")


def _report(arguments: argparse.Namespace, bare: Rate, real: Rate, fleet: FleetFigures) -> None:
    print(f"poll bench (one worker, {arguments.connections} connections, {arguments.seconds:g} s)")
    print(f"  bare Starlette endpoint  {bare.per_second:8.0f} /s   p99 {bare.p99_ms:7.1f} ms")
    print(f"  device poll              {real.per_second:8.0f} /s   p99 {real.p99_ms:7.1f} ms")
    print(f"  poll rate / bare rate    {real.per_second / bare.per_second:8.2f}")
    print(f"  answers by status        bare {bare.statuses}, poll {real.statuses}")
    print(
        f"fleet: {arguments.devices} boards every {arguments.interval:g} s "
        f"for {arguments.duration:g} s"
    )
    answered = fleet.latencies
    print(f"  polls {fleet.polls}, answered {len(answered)}, motor ON {fleet.motor_on}")
    if len(answered) >= 2:
        print(f"  latency p50 {quantile(answered, 50) * 1000:7.1f} ms")
        print(f"  latency p99 {quantile(answered, 99) * 1000:7.1f} ms")
    connecting = fleet.connecting
    if len(connecting) >= 2:
        print(
            f"  of which {len(connecting)} opened their connection: "
            f"p50 {quantile(connecting, 50) * 1000:.1f} ms, "
            f"p99 {quantile(connecting, 99) * 1000:.1f} ms"
        )
    print(f"  errors {sum(fleet.errors.values())} {fleet.errors or ''}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--offline-after",
        type=int,
        default=20,
        help="the server's offline threshold (default: the service's 20 s)",
    )
    parser.add_argument(
        "--running", type=int, default=20, help="tenants with a RUNNING run (default 20)"
    )
    parser.add_argument("--smoke", action="store_true")
    parsed = parser.parse_args()
    if parsed.smoke:
        parsed.devices, parsed.duration, parsed.seconds = 300, 10.0, 2.0
    run_fast(main(parsed))
