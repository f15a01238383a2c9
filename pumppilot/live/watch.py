"""Counting a tenant's events, and waiting for the next one without a backlog."""

import asyncio
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from beanie import PydanticObjectId

from pumppilot import events
from pumppilot.events import TenantEvent

log = logging.getLogger(__name__)

# Even while watched, nothing read from the store is trusted longer than this: it bounds
# how stale a worker can be if an event ever goes missing.
MAX_AGE_SECONDS = 10.0
# How much earlier than its maximum age a value may be read again, as a fraction of it.
MAX_AGE_SPREAD = 0.5
# A tenant nobody subscribes to stays watched this long after its last request.
LINGER_SECONDS = 60.0
# How long one rendering of loaded state is handed to further subscribers.
RENDER_SECONDS = 1.0
# Watches of one tenant come and go; numbering them keeps an old stamp from matching a new one.
_epochs = itertools.count()


@dataclass
class _Loaded:
    stamp: tuple[int, ...]
    # The watch's generation when the stamp was last found current: while no event has
    # been heard since, the stamp need not be computed again.
    generation: int
    loaded_at: float
    value: Any
    # Each value counts as old a little before its `max_age`, by a random fraction of it:
    # values read together (a restart, a burst of new tenants) are not read again
    # together.
    spread: float = 1.0


@dataclass
class _Rendered:
    basis: object
    made_at: float
    value: Any


class TenantWatch:
    """Counts of what one worker has heard about one tenant since it began watching."""

    def __init__(self, tenant_id: PydanticObjectId) -> None:
        self.tenant_id = tenant_id
        self.epoch = next(_epochs)
        self.generation = 0
        self.kinds: Counter[str] = Counter()
        self.accounts: Counter[PydanticObjectId] = Counter()
        self.subjects: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self._loaded: dict[str, _Loaded] = {}
        self._loading: dict[str, tuple[asyncio.Task[Any], asyncio.Event]] = {}
        self._rendered: dict[Hashable, _Rendered] = {}

    def heard(self, event: TenantEvent) -> None:
        self.generation += 1
        self.kinds[event.kind] += 1
        if event.account_id is not None:
            self.accounts[event.account_id] += 1
        if event.subject is not None:
            self.subjects[event.subject] += 1
        if event.kind == "resync":
            self._loaded.clear()
            self._rendered.clear()

        # Wake every waiter once; a waiter that was busy sees the latest count, not a queue.
        self.nudge()

    def nudge(self) -> None:
        """Wake every waiter without a change, so each can look at the clock."""
        woken, self._changed = self._changed, asyncio.Event()
        woken.set()

    async def next_change(self, seen: int) -> None:
        """Return once the generation has moved past `seen`, or at the next nudge.

        Waiters share one event and no timer each: with a thousand of them, per-waiter
        timeouts would cost more than the wake-ups themselves.
        """
        if self.generation == seen:
            await self._changed.wait()

    def stamp(self, *kinds: str) -> tuple[int, ...]:
        # "resync" is in every stamp: after lost events nothing cached is current.
        return (self.epoch, self.kinds["resync"], *(self.kinds[kind] for kind in kinds))

    def security_stamp(self, account_id: PydanticObjectId) -> tuple[int, ...]:
        """Moves when the tenant or this account is suspended, logged out or changed."""
        return (*self.stamp("tenant"), self.accounts[account_id])

    async def load[T](
        self,
        name: str,
        kinds: tuple[str, ...],
        loader: Callable[[], Awaitable[T]],
        *,
        subject: str | None = None,
        max_age: float = MAX_AGE_SECONDS,
        refresh_behind: bool = False,
    ) -> T:
        """`loader()`'s value, read again only after an event of one of `kinds`.

        Concurrent callers share one read. A value is stamped with the counts from
        before its read began, so an event during the read makes the next caller read.
        With `refresh_behind`, a value that is merely older than `max_age` (no event made
        it stale) is still returned while a read replaces it: for large reads, which
        would otherwise hold up every caller once per `max_age`.
        """
        loaded = self._loaded.get(name)
        fresh = loaded is not None and time.monotonic() - loaded.loaded_at < max_age * loaded.spread
        if fresh and loaded is not None and loaded.generation == self.generation:
            value: T = loaded.value
            return value

        stamp = self.stamp(*kinds)
        if subject is not None:
            stamp = (*stamp, self.subjects[subject])
        if loaded is not None and loaded.stamp == stamp and (fresh or refresh_behind):
            if fresh:
                loaded.generation = self.generation
            else:
                self._start_read(name, stamp, loader)
            value = loaded.value
            return value

        reading = self._start_read(name, stamp, loader)
        # Waiting on an event, not on the task: a caller going away must not cancel the
        # read the others wait for, and a thousand waiters cost a thousand cheap futures.
        await reading[1].wait()
        result: T = reading[0].result()
        return result

    def _start_read[T](
        self, name: str, stamp: tuple[int, ...], loader: Callable[[], Awaitable[T]]
    ) -> tuple[asyncio.Task[Any], asyncio.Event]:
        """The read of `name` under way, started here if there is none."""
        reading = self._loading.get(name)
        if reading is None:
            task = asyncio.create_task(self._read(name, stamp, self.generation, loader))
            done = asyncio.Event()
            task.add_done_callback(partial(_finished, name, done))
            reading = self._loading[name] = (task, done)
        return reading

    def loaded_at(self, name: str) -> float | None:
        loaded = self._loaded.get(name)
        return loaded.loaded_at if loaded is not None else None

    def forget(self, name: str) -> None:
        self._loaded.pop(name, None)

    def rendered[T](self, key: Hashable, basis: object, build: Callable[[], T]) -> T:
        """`build()`, made once per `basis` (a loaded value) and key, for up to a second.

        Renderings hold times ("remaining seconds"), so one is reused only briefly.
        """
        now = time.monotonic()
        kept = self._rendered.get(key)
        if kept is not None and kept.basis is basis and now - kept.made_at < RENDER_SECONDS:
            value: T = kept.value
            return value
        value = build()
        self._rendered[key] = _Rendered(basis=basis, made_at=now, value=value)
        return value

    async def _read[T](
        self,
        name: str,
        stamp: tuple[int, ...],
        generation: int,
        loader: Callable[[], Awaitable[T]],
    ) -> T:
        # Both the stamp and the generation are from before the read: an event heard
        # during it makes the next caller read again.
        started = time.monotonic()
        try:
            value = await loader()
        finally:
            del self._loading[name]
        self._loaded[name] = _Loaded(
            stamp=stamp,
            generation=generation,
            loaded_at=started,
            value=value,
            # Not a secret: only spreads reads over time.
            spread=random.uniform(1 - MAX_AGE_SPREAD, 1.0),  # noqa: S311
        )
        return value


def _finished(name: str, done: asyncio.Event, task: asyncio.Task[Any]) -> None:
    done.set()
    # Looked at here so that a read refreshed behind, which nobody awaits, is not reported
    # as never retrieved; callers waiting on it still get the error from `result()`.
    if not task.cancelled() and task.exception() is not None:
        log.warning("reading %s failed: %s", name, task.exception())


class Watches:
    """The tenants this worker watches, each with one bus subscription."""

    def __init__(self) -> None:
        self._watches: dict[PydanticObjectId, TenantWatch] = {}
        self._users: Counter[PydanticObjectId] = Counter()
        self._exits: dict[PydanticObjectId, AsyncExitStack] = {}
        self._last_used: dict[PydanticObjectId, float] = {}
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def watching(self, tenant_id: PydanticObjectId) -> AsyncIterator[TenantWatch]:
        """The tenant's watch, kept while the block runs."""
        watch = await self._acquire(tenant_id)
        try:
            yield watch
        finally:
            await self._release(tenant_id)

    async def touch(self, tenant_id: PydanticObjectId) -> TenantWatch:
        """The tenant's watch, kept for a while after this call (for request caches)."""
        watch = self.touch_kept(tenant_id)
        if watch is None:
            watch = await self._acquire(tenant_id)
            self._last_used[tenant_id] = time.monotonic()
        return watch

    def touch_kept(self, tenant_id: PydanticObjectId) -> TenantWatch | None:
        """`touch` for a watch already kept, without waiting; None if it is not kept."""
        watch = self._watches.get(tenant_id)
        if watch is None or tenant_id not in self._last_used:
            return None
        self._last_used[tenant_id] = time.monotonic()
        return watch

    def current(self, tenant_id: PydanticObjectId) -> TenantWatch | None:
        return self._watches.get(tenant_id)

    def nudge_all(self) -> None:
        for watch in tuple(self._watches.values()):
            watch.nudge()

    async def sweep(self) -> None:
        """Stop watching tenants whose lingering time has passed."""
        cutoff = time.monotonic() - LINGER_SECONDS
        for tenant_id, used in tuple(self._last_used.items()):
            if used < cutoff:
                del self._last_used[tenant_id]
                await self._release(tenant_id)

    async def close(self) -> None:
        for tenant_id in tuple(self._last_used):
            del self._last_used[tenant_id]
            await self._release(tenant_id)

    async def _acquire(self, tenant_id: PydanticObjectId) -> TenantWatch:
        async with self._lock:
            if not self._users[tenant_id]:
                watch = TenantWatch(tenant_id)
                stack = AsyncExitStack()
                await stack.enter_async_context(events.bus().observe(tenant_id, watch.heard))
                self._watches[tenant_id] = watch
                self._exits[tenant_id] = stack
            self._users[tenant_id] += 1
            return self._watches[tenant_id]

    async def _release(self, tenant_id: PydanticObjectId) -> None:
        async with self._lock:
            self._users[tenant_id] -= 1
            if self._users[tenant_id]:
                return
            del self._users[tenant_id]
            del self._watches[tenant_id]
            await self._exits.pop(tenant_id).aclose()
