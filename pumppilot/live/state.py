"""The tenant state that live streams show, read once per change for the whole worker."""

import time

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import devices, directory, queue
from pumppilot.live.watch import MAX_AGE_SECONDS, TenantWatch
from pumppilot.models import Device, User
from pumppilot.presence import presence

# Boards refresh last_seen without announcing it (it changes every poll), so a board
# that looks offline in a list older than this is read again before it is called so.
OFFLINE_RECHECK_SECONDS = 1.0


async def queue_view(
    watch: TenantWatch, *, max_age: float = MAX_AGE_SECONDS, refresh_behind: bool = False
) -> queue.QueueView:
    return await watch.load(
        "queue",
        ("queue", "tenant"),
        lambda: queue.load_queue(watch.tenant_id),
        max_age=max_age,
        refresh_behind=refresh_behind,
    )


async def users(watch: TenantWatch) -> list[User]:
    return await watch.load(
        "users", ("wallet", "account", "tenant"), lambda: directory.users_of(watch.tenant_id)
    )


async def boards(watch: TenantWatch, *, settings: Settings, clock: Clock) -> list[Device]:
    found = await _boards(watch)
    loaded_at = watch.loaded_at("boards") or 0.0
    now = clock.now()
    table = presence()
    looks_offline = any(
        not board.revoked and not table.online(board, now, settings.offline_after)
        for board in found
    )
    if looks_offline and time.monotonic() - loaded_at >= OFFLINE_RECHECK_SECONDS:
        watch.forget("boards")
        found = await _boards(watch)
    return found


async def _boards(watch: TenantWatch) -> list[Device]:
    return await watch.load("boards", ("device",), lambda: devices.devices_of(watch.tenant_id))
