"""The Redis event bus: events cross workers, stay within their tenant, and reach the
publishing worker at once and only once.

Needs the Redis on 127.0.0.1:6379 (CI starts it); elsewhere these tests skip and say so.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from beanie import PydanticObjectId

from pumppilot.events import TenantEvent
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


class Heard:
    """An observer that keeps what it hears and lets a test wait for it."""

    def __init__(self) -> None:
        self.events: list[TenantEvent] = []
        self._arrived = asyncio.Event()

    def __call__(self, event: TenantEvent) -> None:
        self.events.append(event)
        self._arrived.set()

    async def wait(self) -> TenantEvent:
        await asyncio.wait_for(self._arrived.wait(), WAIT)
        return self.events[0]


async def test_an_event_published_on_one_worker_reaches_an_observer_on_another(
    two_workers: tuple[RedisBus, RedisBus],
):
    publisher, subscriber = two_workers
    tenant = PydanticObjectId()
    heard = Heard()

    async with subscriber.observe(tenant, heard):
        await publisher.publish(TenantEvent("queue", tenant))
        received = await heard.wait()

    assert received == TenantEvent("queue", tenant)


async def test_an_observer_hears_only_its_own_tenant(two_workers: tuple[RedisBus, RedisBus]):
    publisher, subscriber = two_workers
    mine, theirs = PydanticObjectId(), PydanticObjectId()
    heard = Heard()

    async with subscriber.observe(mine, heard):
        await publisher.publish(TenantEvent("wallet", theirs, PydanticObjectId()))
        await publisher.publish(TenantEvent("queue", mine))
        await heard.wait()
        # Anything of the other tenant would have come first: events keep their order.
        await asyncio.sleep(0.2)

    assert heard.events == [TenantEvent("queue", mine)]


async def test_the_publishing_worker_hears_its_event_at_once_and_once_only(
    two_workers: tuple[RedisBus, RedisBus],
):
    publisher, other = two_workers
    tenant = PydanticObjectId()
    mine, theirs = Heard(), Heard()

    async with publisher.observe(tenant, mine), other.observe(tenant, theirs):
        await publisher.publish(TenantEvent("account", tenant, PydanticObjectId()))
        heard_before_redis = list(mine.events)
        await theirs.wait()
        await asyncio.sleep(0.2)

    # At once: a logout must bind the next request on the same worker.
    assert len(heard_before_redis) == 1
    assert len(mine.events) == 1
