"""The Redis event bus: events cross workers, stay within their tenant, and never pile up.

Needs the Redis on 127.0.0.1:6379 (CI starts it); elsewhere these tests skip and say so.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from beanie import PydanticObjectId

from pumppilot.events import TenantEvent
from pumppilot.events.bus import BACKLOG
from pumppilot.events.redis_bus import RedisBus
from tests.process import redis_reachable

REDIS_URL = "redis://127.0.0.1:6379/15"
WAIT = 5.0


@pytest.fixture
async def two_workers() -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    if not await redis_reachable(REDIS_URL):
        pytest.skip("no Redis at 127.0.0.1:6379; CI starts one (see .ci/run)")
    first, second = RedisBus(REDIS_URL), RedisBus(REDIS_URL)
    await first.start()
    await second.start()
    yield first, second
    await first.close()
    await second.close()


async def test_an_event_published_on_one_worker_reaches_a_listener_on_another(
    two_workers: tuple[RedisBus, RedisBus],
):
    publisher, subscriber = two_workers
    tenant = PydanticObjectId()

    async with subscriber.listen(tenant) as events:
        await publisher.publish(TenantEvent("queue", tenant))
        received = await asyncio.wait_for(events.get(), WAIT)

    assert received == TenantEvent("queue", tenant)


async def test_a_listener_hears_only_its_own_tenant(two_workers: tuple[RedisBus, RedisBus]):
    publisher, subscriber = two_workers
    mine, theirs = PydanticObjectId(), PydanticObjectId()

    async with subscriber.listen(mine) as events:
        await publisher.publish(TenantEvent("wallet", theirs, PydanticObjectId()))
        await publisher.publish(TenantEvent("queue", mine))
        first = await asyncio.wait_for(events.get(), WAIT)

    assert first.tenant_id == mine
    assert events.empty()


async def test_a_slow_listener_keeps_the_latest_events_not_an_endless_backlog(
    two_workers: tuple[RedisBus, RedisBus],
):
    publisher, subscriber = two_workers
    tenant = PydanticObjectId()
    last = PydanticObjectId()

    async with subscriber.listen(tenant) as events:
        for _ in range(BACKLOG * 3):
            await publisher.publish(TenantEvent("queue", tenant))
        await publisher.publish(TenantEvent("wallet", tenant, last))
        for _ in range(100):
            if events.full():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        kept = [events.get_nowait() for _ in range(events.qsize())]

    assert len(kept) <= BACKLOG
    assert kept[-1] == TenantEvent("wallet", tenant, last)
