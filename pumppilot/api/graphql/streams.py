"""What every live stream does between messages: wait for a change, re-check the caller.

A stream watches its tenant on this worker and wakes when the watch hears an event. It
sends only when what it shows may have changed (`relevant` says so), and it sends the
latest state, never a backlog. Before each message it re-checks the caller when the
tenant or the account changed (a suspension, a logout) or `RECHECK_SECONDS` passed, so
the stream ends with that error's code as soon as access ends.
"""

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from beanie import PydanticObjectId

from pumppilot.api.graphql import direct
from pumppilot.api.graphql.context import Context
from pumppilot.api.graphql.shared import Shared
from pumppilot.engines.caller import Caller
from pumppilot.live.watch import TenantWatch

# Sessions expire by the clock with no event to announce it, so streams also look at the
# caller again this often; the app nudges every watch more often than this (app.py).
RECHECK_SECONDS = 30.0

# What a stream shows, reduced to something that changes when the message would.
Relevant = Callable[[], Awaitable[object]]


class Stream:
    def __init__(self, context: Context, watch: TenantWatch, caller: Caller) -> None:
        self.context = context
        self.watch = watch
        self.caller = caller

    async def sent_directly(self, payload: object) -> bool:
        """Whether a shared payload went straight to the socket; if not, yield it."""
        sink = direct.current()
        return isinstance(payload, Shared) and sink is not None and await sink.send(payload)

    def on(self, *kinds: str) -> AsyncGenerator[Caller]:
        """`changes` for a stream that shows state moved only by events of `kinds`."""

        async def stamp() -> object:
            return self.watch.stamp(*kinds)

        return self.changes(stamp)

    async def changes(self, relevant: Relevant) -> AsyncGenerator[Caller]:
        """Yield the re-checked caller now, then after each relevant change."""
        watch = self.watch
        security = watch.security_stamp(self.caller.account_id)
        checked = time.monotonic()
        shown: object = object()
        while True:
            # Taken first: an event while this turn runs makes the wait below return at once.
            seen = watch.generation
            now_security = watch.security_stamp(self.caller.account_id)
            if now_security != security or time.monotonic() - checked >= RECHECK_SECONDS:
                self.caller = await self.context.recheck()
                security, checked = now_security, time.monotonic()

            key = await relevant()
            if key != shown:
                shown = key
                yield self.caller

            await watch.next_change(seen)


@asynccontextmanager
async def stream(
    context: Context, tenant_id: PydanticObjectId, caller: Caller
) -> AsyncIterator[Stream]:
    async with context.runtime.watches.watching(tenant_id) as watch:
        yield Stream(context, watch, caller)
