"""How many device polls a second one worker answers, and how long each takes.

Runs a real uvicorn server on a loopback port over the embedded store, with one tenant
whose run is RUNNING, and polls it from concurrent clients. Prints the figures.

    python -m bench.poll              # 5,000 polls, 20 at a time, in-memory store
    python -m bench.poll --sqlite     # the same on the SQLite file, as `make run` uses
    python -m bench.poll --smoke      # a few hundred polls: checks the bench still runs
"""

import argparse
import asyncio
import statistics
import time

import httpx

from bench.serving import seeded_store, serving
from pumppilot.clock import SystemClock
from pumppilot.engines import queue
from tests.factories import make_tenant


async def _poll_many(
    base: str, params: dict[str, str], key: str, count: int, width: int
) -> list[float]:
    latencies: list[float] = []
    remaining = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in remaining:
            started = time.perf_counter()
            answer = await client.get("/api/esp32/poll", params=params)
            latencies.append(time.perf_counter() - started)
            if answer.status_code != 200 or answer.json()["motor"] != "ON":
                raise RuntimeError(f"unexpected poll answer: {answer.text}")

    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        await asyncio.gather(*(worker(client) for _ in range(width)))
    return latencies


async def main(count: int, width: int, sqlite: bool) -> None:
    async with seeded_store(sqlite=sqlite) as settings:
        clock = SystemClock()
        tenant = await make_tenant("bench", clock, balances={"runner": 600})
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id("runner"),
            minutes=600,
            settings=settings,
            clock=clock,
        )

        async with serving(settings) as base_url:
            params = {"adminId": str(tenant.id), "deviceId": tenant.device_id}
            started = time.perf_counter()
            latencies = await _poll_many(base_url, params, tenant.device_key, count, width)
            elapsed = time.perf_counter() - started

    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    store = "sqlite" if sqlite else "memory"
    print(f"poll bench ({store} store, {count} polls, {width} concurrent)")
    print(f"  throughput  {count / elapsed:8.0f} polls/s")
    print(f"  latency p50 {quantiles[49] * 1000:8.1f} ms")
    print(f"  latency p99 {quantiles[98] * 1000:8.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    arguments = parser.parse_args()
    total = 300 if arguments.smoke else arguments.count
    asyncio.run(main(total, arguments.width, arguments.sqlite))
