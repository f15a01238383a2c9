"""Device polls answered from what the worker already holds.

A board polls every few seconds, and most polls change nothing: the same signals, the
same run. Such a poll is answered from the tenant's watch (the board and its tenant,
the queue), and its last-seen time is kept in memory. Every `FLUSH_SECONDS` a background
flush writes the last-seen times of the boards whose stored one is a quarter of the
offline threshold old: with the defaults that is every board at every flush, and with a
longer threshold the store sees proportionally fewer writes. A poll takes the full
path through the engines, with its writes and settling, when anything may need them:
a changed signal, a board coming back online (marked offline, or its stored last-seen
time past the offline threshold), a deadline passed, or a run to promote or resume. The
flush keeps a polling board's stored time within a quarter of the threshold plus one
poll interval and one flush interval (15 s with the defaults, against 20 s), so a board
that polls is not taken for silent.
"""

import asyncio
import contextlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
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
# What polls read (the tenant, its boards, its queue) is read again at least this often,
# events or not, behind the polls: they never wait for it. Events make it stale at once;
# this only bounds the damage of an event that never arrived (a lost Redis connection
# already makes every watch forget). Ten thousand boards are two thousand tenants, whose
# three reads each come back every few minutes rather than every minute.
BULK_MAX_AGE = 300.0
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Verified:
    """A board whose key and tenant were found good, and when."""

    key: bytes
    watch: TenantWatch
    generation: int
    board: Board
    at: float

    def still_good(self, watch: TenantWatch, key: bytes) -> bool:
        return (
            watch is self.watch
            and watch.generation == self.generation
            and time.monotonic() - self.at < BULK_MAX_AGE
            and hmac.compare_digest(key, self.key)
        )


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
        self._answers: dict[PydanticObjectId, tuple[QueueView, int, PollAnswer]] = {}
        self._verified: dict[tuple[str, str], _Verified] = {}
        self._refresh_after = settings.offline_after / 4
        self._offline_after = settings.offline_after

    async def poll(
        self, *, admin_id: str, device_id: str, key: str | None, report: DeviceReport
    ) -> PollAnswer:
        watch, board = await self._checked(admin_id, device_id, key)
        tenant_id = watch.tenant_id
        device = board[0]
        assert device.id is not None
        self._limit(device.id)
        now = self._clock.now()

        view = await state.queue_view(watch, max_age=BULK_MAX_AGE, refresh_behind=True)
        stored = self._stored_seen(device)
        if self._needs_engines(board, report, view, now, stored):
            answer = await devices.poll_board(
                board, report, settings=self._settings, clock=self._clock
            )
            self._written[device.id] = now
            self._seen.pop(device.id, None)
            return answer

        if now - stored >= self._refresh_after:
            self._seen[device.id] = now
        return self._answer(tenant_id, view, now)

    async def _checked(
        self, admin_id: str, device_id: str, key: str | None
    ) -> tuple[TenantWatch, Board]:
        """The tenant's watch and the board, once the key and the tenant are found good.

        A board that presents the key it presented last, while its tenant has heard no
        event since, is let through on that earlier check: any rotation, revocation or
        suspension is an event, after which the board is checked in full again.
        """
        claim = (admin_id, device_id)
        earlier = self._verified.get(claim)
        if earlier is not None and key is not None:
            watch = await self._watches.touch(earlier.watch.tenant_id)
            if earlier.still_good(watch, key.encode()):
                return watch, earlier.board

        tenant_id = devices.claimed_tenant(admin_id=admin_id, device_id=device_id, key=key)
        assert key is not None
        watch = await self._watches.touch(tenant_id)
        generation = watch.generation
        found = await self._board(watch, tenant_id, device_id)
        board = devices.check_board(found, device_id=device_id, key=key)
        self._verified[claim] = _Verified(key.encode(), watch, generation, board, time.monotonic())
        return watch, board

    def _answer(self, tenant_id: PydanticObjectId, view: QueueView, now: datetime) -> PollAnswer:
        """The answer for the tenant's boards, made once per second and queue state."""
        second = int(now.timestamp())
        kept = self._answers.get(tenant_id)
        if kept is not None and kept[0] is view and kept[1] == second:
            return kept[2]

        answer = devices.answer_for(
            tenant_id, view.active, version=view.version, settings=self._settings, clock=self._clock
        )
        self._answers[tenant_id] = (view, second, answer)
        return answer

    async def _board(
        self, watch: TenantWatch, tenant_id: PydanticObjectId, device_id: str
    ) -> Board | None:
        """The board and its tenant as last read, read again after an event about either."""
        admin = await watch.load(
            "tenant",
            ("tenant",),
            partial(Admin.get, tenant_id),
            max_age=BULK_MAX_AGE,
            refresh_behind=True,
        )
        if admin is None:
            return None
        # All of a tenant's boards come in one read; one changed board is read on its own.
        everyone = await watch.load(
            "boards by id",
            (),
            partial(_all_boards, watch, tenant_id),
            max_age=BULK_MAX_AGE,
            refresh_behind=True,
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
        self, board: Board, report: DeviceReport, view: QueueView, now: datetime, stored: datetime
    ) -> bool:
        device, _ = board
        # Silent as far as the store can tell: welcomed back (and announced) by the engines.
        # Younger last-seen times are refreshed by the flush, at no cost to the poll.
        if now - stored >= self._offline_after:
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
        written, stored = self._written.get(device.id), device.last_seen_at
        if written is None:
            return stored or NEVER
        return written if stored is None or written > stored else stored

    def _limit(self, device_id: PydanticObjectId) -> None:
        # Real elapsed time, not the service's clock: a wall clock set back or forward
        # must neither lock boards out nor lift the limit.
        rate = 2 / self._settings.poll_seconds
        now = time.monotonic()
        tokens, at = self._buckets.get(device_id, (float(BURST), now))
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
        # Answers are kept for their second only, checks for a while: dropping them here
        # bounds the memory.
        self._answers.clear()
        cutoff = time.monotonic() - BULK_MAX_AGE
        self._verified = {
            claim: check for claim, check in self._verified.items() if check.at >= cutoff
        }
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
