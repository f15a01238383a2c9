"""Engine speed: start-to-stop cycles a second, and how late the timer ends a run.

Cycles: one user starts and stops a run over and over through the queue engine on the
embedded store (each cycle: a ticket, an insert, a promotion, the end, the debit, the
usage record).

Deadline lag: runs of one minute queue up behind each other and end by themselves. The
clock runs 60 times faster than real time so a minute passes in a second, and the timer
ticks every real second as in production; the lag is how long after its deadline a run
was ended, in real seconds.

    python -m bench.engines            # 200 cycles, 12 deadlines
    python -m bench.engines --smoke    # 20 cycles, 3 deadlines
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.serving import seeded_store
from pumppilot.clock import SystemClock
from pumppilot.config import Settings
from pumppilot.engines import queue, timer
from pumppilot.models import Run, RunStatus
from tests.factories import make_tenant

SPEED = 60.0


class FastClock:
    """Time that runs `SPEED` times faster than the wall clock, from now."""

    def __init__(self) -> None:
        self._origin = datetime.now(UTC)
        self._started = time.perf_counter()

    def now(self) -> datetime:
        elapsed = (time.perf_counter() - self._started) * SPEED
        instant = self._origin + timedelta(seconds=elapsed)
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


async def cycles(settings: Settings, count: int) -> float:
    clock = SystemClock()
    tenant = await make_tenant("cycler", clock, balances={"cyc": 10_000})
    user_id = tenant.user_id("cyc")

    started = time.perf_counter()
    for _ in range(count):
        await queue.start_run(
            tenant_id=tenant.id, user_id=user_id, minutes=5, settings=settings, clock=clock
        )
        await queue.stop_run(tenant_id=tenant.id, user_id=user_id, settings=settings, clock=clock)
    return count / (time.perf_counter() - started)


async def deadline_lags(settings: Settings, count: int) -> list[float]:
    clock = FastClock()
    names = [f"late{number:02}" for number in range(count)]
    tenant = await make_tenant("deadlines", clock, balances=dict.fromkeys(names, 10))
    fast = settings.model_copy(update={"offline_after_seconds": 7 * 24 * 3600})
    for name in names:
        await queue.start_run(
            tenant_id=tenant.id, user_id=tenant.user_id(name), minutes=1, settings=fast, clock=clock
        )

    ticking = asyncio.create_task(timer.run_forever(settings=fast, clock=clock))
    # The timer works through the store, so the store is what to watch for the queue to drain.
    while await Run.find({"admin_id": tenant.id, "open": True}).count():  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    ticking.cancel()

    runs = await Run.find(Run.admin_id == tenant.id, Run.status == RunStatus.DONE).to_list()
    if any(run.charged_seconds != 60 for run in runs):
        raise RuntimeError("a run ended by its deadline was not charged exactly 60 s")
    return [_lag(run) for run in runs]


def _lag(run: Run) -> float:
    assert run.started_at is not None
    assert run.ended_at is not None
    deadline = run.started_at + timedelta(seconds=run.limit_seconds)
    return (run.ended_at - deadline).total_seconds() / SPEED


async def main(cycle_count: int, deadline_count: int) -> None:
    async with seeded_store(sqlite=False) as settings:
        rate = await cycles(settings, cycle_count)
        lags = await deadline_lags(settings, deadline_count)

    quantiles = statistics.quantiles(lags, n=100, method="inclusive")
    print(f"engine bench (memory store; {cycle_count} cycles, {deadline_count} deadlines)")
    print(f"  start-to-stop cycles   {rate:8.1f} /s")
    print(f"  deadline lag p50       {quantiles[49] * 1000:8.0f} ms")
    print(f"  deadline lag p99       {quantiles[98] * 1000:8.0f} ms")
    print(f"  deadline lag max       {max(lags) * 1000:8.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--deadlines", type=int, default=12)
    parser.add_argument("--smoke", action="store_true")
    arguments = parser.parse_args()
    if arguments.smoke:
        asyncio.run(main(20, 3))
    else:
        asyncio.run(main(arguments.cycles, arguments.deadlines))
