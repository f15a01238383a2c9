"""A tenant's watch: waiters see the latest change without a backlog, and a value read
from the store is shared until an event makes it stale."""

import asyncio
from collections.abc import Awaitable

from beanie import PydanticObjectId

from pumppilot.events import InMemoryBus, TenantEvent, use_bus
from pumppilot.live.watch import TenantWatch, Watches


def _watch() -> TenantWatch:
    return TenantWatch(PydanticObjectId())


async def test_a_busy_waiter_wakes_once_to_the_latest_generation_not_to_a_backlog():
    watch = _watch()
    seen = watch.generation
    for _ in range(1000):
        watch.heard(TenantEvent("queue", watch.tenant_id))

    await asyncio.wait_for(watch.next_change(seen), 1)

    assert watch.generation == seen + 1000
    # Nothing was queued for the waiter: the next wait blocks until something new happens.
    quiet = asyncio.create_task(watch.next_change(watch.generation))
    await asyncio.sleep(0.05)
    assert not quiet.done()
    watch.heard(TenantEvent("queue", watch.tenant_id))
    await asyncio.wait_for(quiet, 1)


async def test_concurrent_readers_share_one_read_until_an_event_of_its_kind():
    watch = _watch()
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return reads

    values = await asyncio.gather(*(watch.load("queue", ("queue",), read) for _ in range(50)))
    watch.heard(TenantEvent("wallet", watch.tenant_id, PydanticObjectId()))
    unaffected = await watch.load("queue", ("queue",), read)
    watch.heard(TenantEvent("queue", watch.tenant_id))
    after_change = await watch.load("queue", ("queue",), read)

    assert values == [1] * 50
    assert unaffected == 1
    assert after_change == 2


async def test_an_event_during_a_read_makes_the_next_reader_read_again():
    watch = _watch()
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        if reads == 1:
            # The store answered with the old state just as a change landed.
            watch.heard(TenantEvent("queue", watch.tenant_id))
        return reads

    first = await watch.load("queue", ("queue",), read)
    second = await watch.load("queue", ("queue",), read)

    assert (first, second) == (1, 2)


async def test_a_resync_forgets_everything_read_before_it():
    watch = _watch()
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        return reads

    await watch.load("boards", ("device",), read)
    watch.heard(TenantEvent("resync", watch.tenant_id))

    assert await watch.load("boards", ("device",), read) == 2


async def test_a_watch_hears_only_its_tenant_and_stops_when_released():
    bus = InMemoryBus()
    use_bus(bus)
    watches = Watches()
    mine, theirs = PydanticObjectId(), PydanticObjectId()

    async with watches.watching(mine) as watch:
        await bus.publish(TenantEvent("queue", theirs))
        await bus.publish(TenantEvent("queue", mine))
        heard_while_watching = watch.generation
    await bus.publish(TenantEvent("queue", mine))

    assert heard_while_watching == 1
    assert watch.generation == 1
    assert watches.current(mine) is None


async def test_an_old_value_refreshed_behind_is_served_while_an_event_still_waits_for_a_read():
    watch = _watch()
    reads = 0
    release = asyncio.Event()

    async def read() -> int:
        nonlocal reads
        reads += 1
        if reads > 1:
            await release.wait()
        return reads

    def load() -> Awaitable[int]:
        return watch.load("boards", ("device",), read, max_age=0.0, refresh_behind=True)

    first = await load()
    # Past its age, not changed by any event: served at once, read again behind it.
    served_while_reading = await asyncio.wait_for(load(), 1)
    release.set()
    await asyncio.sleep(0.01)
    refreshed = await load()
    # A change: nobody is handed the old value.
    watch.heard(TenantEvent("device", watch.tenant_id))
    after_change = await asyncio.wait_for(load(), 1)

    assert (first, served_while_reading, refreshed) == (1, 1, 2)
    assert after_change > refreshed
