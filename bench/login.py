"""Login throughput, and how much a burst of logins delays everything else.

Logins hash with argon2id (19 MiB, two passes), which the server runs in worker threads.
This bench sends a burst of correct logins from concurrent clients to a real uvicorn
server, while a probe in the same event loop measures how late its timers fire: that
lateness is what every other request (a device poll, a subscription) would feel.

    python -m bench.login            # 200 logins, 16 at a time
    python -m bench.login --smoke    # 24 logins: checks the bench still runs
"""

import argparse
import asyncio
import statistics
import time

import httpx

from bench.serving import seeded_store, serving
from pumppilot.clock import SystemClock
from tests.factories import PASSWORD, make_tenant

LOGIN = "mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }"
PROBE_INTERVAL = 0.01


async def _burst(base_url: str, names: list[str], count: int, width: int) -> list[float]:
    latencies: list[float] = []
    turns = iter(range(count))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for turn in turns:
            variables = {"i": names[turn % len(names)], "p": PASSWORD}
            started = time.perf_counter()
            answer = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
            latencies.append(time.perf_counter() - started)
            if "errors" in answer.json():
                raise RuntimeError(f"login failed: {answer.text}")

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(width)))
    return latencies


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(PROBE_INTERVAL)
        lags.append(time.perf_counter() - started - PROBE_INTERVAL)


async def main(count: int, width: int) -> None:
    async with seeded_store(sqlite=False) as settings:
        # One user per concurrent client, so no identifier is ever throttled.
        names = [f"bench{number:03}" for number in range(width)]
        await make_tenant("bench", SystemClock(), balances=dict.fromkeys(names, 0))

        async with serving(settings) as base_url:
            lags: list[float] = []
            stop = asyncio.Event()
            probe = asyncio.create_task(_probe(lags, stop))
            started = time.perf_counter()
            latencies = await _burst(base_url, names, count, width)
            elapsed = time.perf_counter() - started
            stop.set()
            await probe

    print(f"login bench ({count} logins, {width} concurrent, argon2id m=19MiB t=2 p=1)")
    print(f"  throughput        {count / elapsed:8.1f} logins/s")
    print(f"  latency p50       {_quantile(latencies, 50) * 1000:8.1f} ms")
    print(f"  latency p99       {_quantile(latencies, 99) * 1000:8.1f} ms")
    print(f"  loop lag p50      {_quantile(lags, 50) * 1000:8.1f} ms")
    print(f"  loop lag p99      {_quantile(lags, 99) * 1000:8.1f} ms")
    print(f"  loop lag max      {max(lags) * 1000:8.1f} ms")


def _quantile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--smoke", action="store_true")
    arguments = parser.parse_args()
    total = 24 if arguments.smoke else arguments.count
    asyncio.run(main(total, arguments.width))
