"""An event bus over Redis pub/sub, so a change on one worker reaches every worker.

Each worker keeps one subscription connection and subscribes to a tenant's channel only
while someone on that worker listens to it; events from Redis are handed to the local
in-memory bus, which fans them out and bounds each listener's backlog.
"""

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis
from beanie import PydanticObjectId

from pumppilot.events.bus import InMemoryBus, TenantEvent

log = logging.getLogger(__name__)

PREFIX = "pumppilot:tenant:"
# Subscribed from the start: the reader needs one subscription before it can wait.
HEARTBEAT_CHANNEL = "pumppilot:heartbeat"


def channel(tenant_id: PydanticObjectId) -> str:
    return f"{PREFIX}{tenant_id}"


def encode(event: TenantEvent) -> str:
    account = str(event.account_id) if event.account_id is not None else None
    return json.dumps({"kind": event.kind, "tenant": str(event.tenant_id), "account": account})


def decode(raw: bytes | str) -> TenantEvent:
    data = json.loads(raw)
    account = data.get("account")
    return TenantEvent(
        kind=data["kind"],
        tenant_id=PydanticObjectId(data["tenant"]),
        account_id=PydanticObjectId(account) if account else None,
    )


class RedisBus:
    def __init__(self, url: str) -> None:
        self._client = redis.from_url(url)
        self._pubsub = self._client.pubsub()
        self._local = InMemoryBus()
        self._listening: Counter[PydanticObjectId] = Counter()
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
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._client.aclose()

    async def publish(self, event: TenantEvent) -> None:
        await self._client.publish(channel(event.tenant_id), encode(event))

    @asynccontextmanager
    async def listen(
        self, tenant_id: PydanticObjectId
    ) -> AsyncIterator[asyncio.Queue[TenantEvent]]:
        async with self._lock:
            if not self._listening[tenant_id]:
                await self._pubsub.subscribe(channel(tenant_id))
            self._listening[tenant_id] += 1
        try:
            async with self._local.listen(tenant_id) as listener:
                yield listener
        finally:
            async with self._lock:
                self._listening[tenant_id] -= 1
                if not self._listening[tenant_id]:
                    del self._listening[tenant_id]
                    await self._pubsub.unsubscribe(channel(tenant_id))

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except redis.ConnectionError:
                # Redis restarted or dropped us; listeners re-read state when it returns.
                log.warning("lost the Redis connection; retrying")
                await asyncio.sleep(1.0)
                continue
            if message is None or message["type"] != "message":
                continue
            try:
                event = decode(message["data"])
            except (ValueError, KeyError):
                log.warning("ignored a malformed event on %s", message.get("channel"))
                continue
            await self._local.publish(event)
