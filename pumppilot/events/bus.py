"""An in-process event bus with one channel per tenant."""

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from beanie import PydanticObjectId

log = logging.getLogger(__name__)

EventKind = Literal["queue", "wallet", "account", "tenant", "device"]
# A subscriber that falls this far behind loses its oldest events, not the newest:
# subscribers re-read state on each event, so the latest one is what matters.
BACKLOG = 32


@dataclass(frozen=True)
class TenantEvent:
    kind: EventKind
    tenant_id: PydanticObjectId
    # The account the change concerns, when it concerns one (a wallet, a suspension).
    account_id: PydanticObjectId | None = None


class EventBus(Protocol):
    """What engines publish to and subscriptions listen on."""

    async def publish(self, event: TenantEvent) -> None: ...

    def listen(
        self, tenant_id: PydanticObjectId
    ) -> AbstractAsyncContextManager[asyncio.Queue[TenantEvent]]: ...


class InMemoryBus:
    def __init__(self) -> None:
        self._listeners: dict[PydanticObjectId, set[asyncio.Queue[TenantEvent]]] = defaultdict(set)

    async def publish(self, event: TenantEvent) -> None:
        for listener in tuple(self._listeners.get(event.tenant_id, ())):
            if listener.full():
                listener.get_nowait()
            listener.put_nowait(event)

    @asynccontextmanager
    async def listen(
        self, tenant_id: PydanticObjectId
    ) -> AsyncIterator[asyncio.Queue[TenantEvent]]:
        listener: asyncio.Queue[TenantEvent] = asyncio.Queue(maxsize=BACKLOG)
        self._listeners[tenant_id].add(listener)
        try:
            yield listener
        finally:
            self._listeners[tenant_id].discard(listener)
            if not self._listeners[tenant_id]:
                del self._listeners[tenant_id]


_current: EventBus = InMemoryBus()


def use_bus(new: EventBus) -> None:
    """Install the bus the app runs with; engines publish to whichever is installed."""
    global _current  # noqa: PLW0603 -- one bus per process, chosen at start-up
    _current = new


def bus() -> EventBus:
    return _current


async def publish(
    kind: EventKind, tenant_id: PydanticObjectId, account_id: PydanticObjectId | None = None
) -> None:
    await _current.publish(TenantEvent(kind=kind, tenant_id=tenant_id, account_id=account_id))
