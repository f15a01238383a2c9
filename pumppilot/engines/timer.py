"""The timer: ends runs at their deadline, holds them when a board falls silent, and
announces boards that stopped polling.

Nothing here counts time down in memory. Each tick asks the store which runs are active
and settles each tenant from stored fields, so any worker can tick, several can tick at
once (the conditional writes let one transition win), and a restarted worker picks up
where the last one stopped.
"""

import asyncio
import logging
import time

from beanie import PydanticObjectId

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import devices, minute_requests, queue, wallet
from pumppilot.models import Run
from pumppilot.stopping import stopping

log = logging.getLogger(__name__)

# The store's last-seen times lag the polls by minutes (`pumppilot.presence`), so its scan
# for silent boards finds most of the fleet and is run this often. Boards a live worker
# answered are marked by that worker's presence flush within seconds; the scan finds the
# others (silent since before this worker started, or answered by a worker that died).
SILENT_SCAN_SECONDS = 60.0


async def tick(*, settings: Settings, clock: Clock, look_for_silent: bool = True) -> int:
    """Settle every tenant that has an active run; returns how many were looked at.

    First it finishes whatever a killed process left half-done, so the runs it settles
    next start from consistent balances. Looking for boards that fell silent reads every
    board, so `run_forever` does it once a minute rather than at every tick;
    runs are held by the settling either way, this only announces the boards.
    """
    await wallet.finish_pending()
    await queue.settle_unsettled_runs(clock=clock)
    await minute_requests.credit_uncredited(clock=clock)
    if look_for_silent:
        await devices.mark_silent_offline(settings=settings, clock=clock)
    tenants: list[PydanticObjectId] = await Run.get_pymongo_collection().distinct(
        "admin_id", {"active": True}
    )
    for tenant_id in tenants:
        await queue.settle_due(tenant_id, settings=settings, clock=clock)
    return len(tenants)


async def run_forever(*, settings: Settings, clock: Clock) -> None:
    """Tick every `timer_seconds` until cancelled; a failed tick is logged, not fatal."""
    silent_check_due = 0.0
    while True:
        look_for_silent = time.monotonic() >= silent_check_due
        if look_for_silent:
            silent_check_due = time.monotonic() + SILENT_SCAN_SECONDS
        try:
            await tick(settings=settings, clock=clock, look_for_silent=look_for_silent)
        except Exception:
            if stopping():
                return
            # The next tick retries from stored state; losing the loop would lose deadlines.
            log.exception("timer tick failed")
        await asyncio.sleep(settings.timer_seconds)
