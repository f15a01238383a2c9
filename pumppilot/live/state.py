"""The tenant state that live streams show, read once per change for the whole worker."""

from pumppilot.engines import devices, directory, queue
from pumppilot.live.watch import MAX_AGE_SECONDS, TenantWatch
from pumppilot.models import Device, User


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


async def boards(watch: TenantWatch) -> list[Device]:
    """The tenant's boards as last read. Their stored last-seen times lag; whether one is
    online is the presence table's to say (`pumppilot.presence`), so a board that looks
    offline here is not read again."""
    return await _boards(watch)


async def _boards(watch: TenantWatch) -> list[Device]:
    return await watch.load("boards", ("device",), lambda: devices.devices_of(watch.tenant_id))
