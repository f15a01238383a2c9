"""An in-process event bus with one channel per tenant.

Observers are plain callbacks, called at once when an event is published. They only
note that something changed (see `pumppilot.live`); the work of reading the new state
happens later, once per worker, so no observer can slow the publisher or the others.
"""

import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from beanie import PydanticObjectId

log = logging.getLogger(__name__)

# "resync" says events may have been missed (a lost Redis connection): forget everything.
EventKind = Literal["queue", "wallet", "account", "tenant", "device", "resync"]


@dataclass(frozen=True)
class TenantEvent:
    kind: EventKind
    tenant_id: PydanticObjectId
    # The account the change concerns, when it concerns one (a wallet, a suspension).
    account_id: PydanticObjectId | None = None
    # The thing within the tenant that changed, when it is not an account (a board's id).
    subject: str | None = None


Observer = Callable[[TenantEvent], None]


class EventBus(Protocol):
    """What engines publish to and each worker's live state observes."""

    async def publish(self, event: TenantEvent) -> None: ...

    def observe(
        self, tenant_id: PydanticObjectId, observer: Observer
    ) -> AbstractAsyncContextManager[None]: ...


class InMemoryBus:
    def __init__(self) -> None:
        self._observers: dict[PydanticObjectId, list[Observer]] = defaultdict(list)

    async def publish(self, event: TenantEvent) -> None:
        self.deliver(event)

    def deliver(self, event: TenantEvent) -> None:
        for observer in tuple(self._observers.get(event.tenant_id, ())):
            try:
                observer(event)
            except Exception:
                # One broken observer must not keep the event from the rest.
                log.exception("an observer of tenant %s failed", event.tenant_id)

    def observed(self) -> tuple[PydanticObjectId, ...]:
        return tuple(self._observers)

    @asynccontextmanager
    async def observe(self, tenant_id: PydanticObjectId, observer: Observer) -> AsyncIterator[None]:
        self._observers[tenant_id].append(observer)
        try:
            yield
        finally:
            self._observers[tenant_id].remove(observer)
            if not self._observers[tenant_id]:
                del self._observers[tenant_id]


_current: EventBus = InMemoryBus()


def use_bus(new: EventBus) -> None:
    """Install the bus the app runs with; engines publish to whichever is installed."""
    global _current  # noqa: PLW0603 -- one bus per process, chosen at start-up
    _current = new


def bus() -> EventBus:
    return _current


async def publish(
    kind: EventKind,
    tenant_id: PydanticObjectId,
    account_id: PydanticObjectId | None = None,
    *,
    subject: str | None = None,
) -> None:
    await _current.publish(TenantEvent(kind, tenant_id, account_id, subject))
