"""An event bus over Redis pub/sub, so a change on one worker reaches every worker.

Each worker keeps one subscription connection and subscribes to a tenant's channel only
while something on that worker observes the tenant. An event reaches the publishing
worker's own observers at once, before it goes to Redis, so a logout is felt by the
next request on that worker without waiting for the round trip.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from beanie import PydanticObjectId

from pumppilot.events.bus import InMemoryBus, Observer, TenantEvent

log = logging.getLogger(__name__)

PREFIX = "pumppilot:tenant:"
# Subscribed from the start: the reader needs one subscription before it can wait.
HEARTBEAT_CHANNEL = "pumppilot:heartbeat"


def channel(tenant_id: PydanticObjectId) -> str:
    return f"{PREFIX}{tenant_id}"


def encode(event: TenantEvent, origin: str) -> str:
    account = str(event.account_id) if event.account_id is not None else None
    return json.dumps(
        {
            "kind": event.kind,
            "tenant": str(event.tenant_id),
            "account": account,
            "subject": event.subject,
            "from": origin,
        }
    )


def decode(raw: bytes | str) -> tuple[TenantEvent, str | None]:
    data = json.loads(raw)
    account = data.get("account")
    event = TenantEvent(
        kind=data["kind"],
        tenant_id=PydanticObjectId(data["tenant"]),
        account_id=PydanticObjectId(account) if account else None,
        subject=data.get("subject"),
    )
    return event, data.get("from")


class RedisBus:
    def __init__(self, url: str) -> None:
        self._client = redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._local = InMemoryBus()
        self._origin = uuid.uuid4().hex
        self._observing: Counter[PydanticObjectId] = Counter()
        self._lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._pubsub.subscribe(HEARTBEAT_CHANNEL)
        self._reader = asyncio.create_task(self._read(), name="redis-bus-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._client.aclose()

    async def publish(self, event: TenantEvent) -> None:
        self._local.deliver(event)
        await self._client.publish(channel(event.tenant_id), encode(event, self._origin))

    @asynccontextmanager
    async def observe(self, tenant_id: PydanticObjectId, observer: Observer) -> AsyncIterator[None]:
        async with self._lock:
            if not self._observing[tenant_id]:
                await self._pubsub.subscribe(channel(tenant_id))
            self._observing[tenant_id] += 1
        try:
            async with self._local.observe(tenant_id, observer):
                yield
        finally:
            async with self._lock:
                self._observing[tenant_id] -= 1
                if not self._observing[tenant_id]:
                    del self._observing[tenant_id]
                    await self._pubsub.unsubscribe(channel(tenant_id))

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except redis.ConnectionError:
                await self._reconnect()
                continue
            if message is None or message["type"] != "message":
                continue
            try:
                event, origin = decode(message["data"])
            except (ValueError, KeyError):
                log.warning("ignored a malformed event on %s", message.get("channel"))
                continue
            if origin != self._origin:
                self._local.deliver(event)

    async def _reconnect(self) -> None:
        # Events published while the connection was down are lost: tell every observer
        # to forget what it knows, and read state afresh once Redis is back.
        log.warning("lost the Redis connection; retrying")
        await asyncio.sleep(1.0)
        for tenant_id in self._local.observed():
            self._local.deliver(TenantEvent("resync", tenant_id))
