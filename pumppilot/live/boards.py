"""Device polls answered from what the worker already holds.

A board polls every few seconds, and most polls change nothing: the same signals, the
same run. Such a poll is answered from the tenant's watch (the board and its tenant,
the queue), and its last-seen time is kept in memory. Every `FLUSH_SECONDS` a background
flush writes the last-seen times of the boards whose stored one is a quarter of the
offline threshold old: with the defaults that is every board at every flush, and with a
longer threshold the store sees proportionally fewer writes. A poll takes the full
path through the engines, with its writes and settling, when anything may need them:
a changed signal, a board coming back online, a deadline passed, a run to promote or
resume, or a last-seen time in the store older than half the offline threshold (so no
board that polls is ever taken for silent).
"""

import asyncio
import contextlib
import logging
import math
import time
from datetime import UTC, datetime
from functools import partial

from beanie import PydanticObjectId
from pymongo import UpdateOne

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import devices
from pumppilot.engines.devices import Board, DeviceReport, PollAnswer
from pumppilot.engines.queue import QueueView
from pumppilot.engines.runs import deadline
from pumppilot.errors import RateLimited
from pumppilot.live import state
from pumppilot.live.watch import TenantWatch, Watches
from pumppilot.models import Admin, Device, HoldReason, RunStatus
from pumppilot.stopping import stopping

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
FLUSH_BATCH = 500
# A board may poll in a burst of this many (a reboot, a card scan), then twice as often
# as it is told to; faster than that it is answered 429.
BURST = 5
# All of a tenant's boards are read again at least this often, events or not.
BULK_MAX_AGE = 60.0
NEVER = datetime.min.replace(tzinfo=UTC)


class Boards:
    def __init__(self, watches: Watches, settings: Settings, clock: Clock) -> None:
        self._watches = watches
        self._settings = settings
        self._clock = clock
        # Polls answered here whose last-seen time is not in the store yet.
        self._seen: dict[PydanticObjectId, datetime] = {}
        # The newest last-seen time this worker knows the store holds, per board.
        self._written: dict[PydanticObjectId, datetime] = {}
        self._buckets: dict[PydanticObjectId, tuple[float, float]] = {}

    async def poll(
        self, *, admin_id: str, device_id: str, key: str | None, report: DeviceReport
    ) -> PollAnswer:
        tenant_id = devices.claimed_tenant(admin_id=admin_id, device_id=device_id, key=key)
        assert key is not None
        watch = await self._watches.touch(tenant_id)
        found = await self._board(watch, tenant_id, device_id)
        board = devices.check_board(found, device_id=device_id, key=key)
        device = board[0]
        assert device.id is not None
        self._limit(device.id)

        now = self._clock.now()
        view = await state.queue_view(watch)
        if self._needs_engines(board, report, view, now):
            answer = await devices.poll_board(
                board, report, settings=self._settings, clock=self._clock
            )
            self._written[device.id] = now
            self._seen.pop(device.id, None)
            return answer

        if now - self._stored_seen(device) >= self._settings.offline_after / 4:
            self._seen[device.id] = now
        return devices.answer_for(
            tenant_id, view.active, version=view.version, settings=self._settings, clock=self._clock
        )

    async def _board(
        self, watch: TenantWatch, tenant_id: PydanticObjectId, device_id: str
    ) -> Board | None:
        """The board and its tenant as last read, read again after an event about either."""
        admin = await watch.load("tenant", ("tenant",), partial(Admin.get, tenant_id))
        if admin is None:
            return None
        # All of a tenant's boards come in one read; one changed board is read on its own.
        everyone = await watch.load(
            "boards by id", (), partial(_all_boards, watch, tenant_id), max_age=BULK_MAX_AGE
        )
        known = everyone.get(device_id)
        if known is not None and watch.subjects[device_id] == known[0]:
            return known[1], admin
        device = await watch.load(
            f"board {device_id}",
            (),
            partial(devices.find_device, tenant_id, device_id),
            subject=device_id,
        )
        return (device, admin) if device is not None else None

    def _needs_engines(
        self, board: Board, report: DeviceReport, view: QueueView, now: datetime
    ) -> bool:
        device, _ = board
        if now - self._stored_seen(device) >= self._settings.offline_after / 2:
            return True
        if device.marked_offline:
            return True
        if devices.report_changes(device, report):
            return True

        active = view.active
        if active is None:
            return bool(view.waiting)
        if active.status is RunStatus.RUNNING:
            due = deadline(active)
            return due is not None and due <= now
        return active.hold_reason is HoldReason.DEVICE_OFFLINE

    def _stored_seen(self, device: Device) -> datetime:
        """The newest last-seen time of the board that this worker knows the store holds."""
        assert device.id is not None
        known = (self._written.get(device.id), device.last_seen_at)
        return max((at for at in known if at is not None), default=NEVER)

    def _limit(self, device_id: PydanticObjectId) -> None:
        rate = 2 / self._settings.poll_seconds
        tokens, at = self._buckets.get(device_id, (float(BURST), time.monotonic()))
        now = time.monotonic()
        tokens = min(float(BURST), tokens + (now - at) * rate)
        if tokens < 1:
            self._buckets[device_id] = (tokens, now)
            raise RateLimited(
                f"poll at most every {self._settings.poll_seconds} s",
                retry_after_seconds=math.ceil((1 - tokens) / rate),
            )
        self._buckets[device_id] = (tokens - 1, now)

    async def flush(self) -> int:
        """Write the last-seen times of polls answered here; returns how many boards.

        One update per board, each found by its id: the embedded store matches a list of
        ids (`$in`) by comparing every board with every id, which grows with the square of
        the fleet. The updates go in batches of `FLUSH_BATCH`, one command each.
        """
        pending, self._seen = self._seen, {}
        items = list(pending.items())
        done = 0
        try:
            for start in range(0, len(items), FLUSH_BATCH):
                batch = items[start : start + FLUSH_BATCH]
                await Device.get_pymongo_collection().bulk_write(
                    [
                        UpdateOne(
                            {"_id": device_id, "last_seen_at": {"$lt": seen}},
                            {"$set": {"last_seen_at": seen}},
                        )
                        for device_id, seen in batch
                    ],
                    ordered=False,
                )
                for device_id, seen in batch:
                    self._written[device_id] = max(self._written.get(device_id, seen), seen)
                done += len(batch)
        except Exception:
            # Keep the unwritten ones for the next flush, unless a newer poll came in.
            for device_id, seen in items[done:]:
                self._seen.setdefault(device_id, seen)
            raise
        return len(items)

    async def flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await self.flush()
            except Exception:
                if stopping():
                    # The closing flush writes what is left.
                    return
                # The next flush, or the next poll through the engines, writes it instead.
                log.exception("flushing last-seen times failed")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.flush()


async def _all_boards(
    watch: TenantWatch, tenant_id: PydanticObjectId
) -> dict[str, tuple[int, Device]]:
    """Every board of the tenant, each with the count of events about it before the read."""
    counts = dict(watch.subjects)
    found: dict[str, tuple[int, Device]] = {}
    async for raw in Device.get_pymongo_collection().find({"admin_id": tenant_id}):
        raw["id"] = raw.pop("_id")
        # Built without validation: these are our own documents, and a tenant may have
        # thousands of boards to read at once.
        device = Device.model_construct(**raw)
        found[device.device_id] = (counts.get(device.device_id, 0), device)
    return found
