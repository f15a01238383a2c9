"""Device polls answered from what the worker already holds.

A board polls every few seconds, and most polls change nothing: the same signals, the
same run. Such a poll is answered from the tenant's watch (the board and its tenant,
the queue), and noted in the process's presence table (`pumppilot.presence`), which a
background flush shares with the other workers every few seconds (`flush_seconds`). A
poll takes the full path through the engines, with its writes and settling, when
anything may need them: a changed signal, a board coming back online (marked offline,
or no poll of it known within the offline threshold), a deadline passed, or a run to
promote or resume.
"""

import asyncio
import contextlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from beanie import PydanticObjectId

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
from pumppilot.presence import NEVER, presence
from pumppilot.stopping import stopping

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
MIN_FLUSH_SECONDS = 1.0
# A board may poll in a burst of this many (a reboot, a card scan), then twice as often
# as it is told to; faster than that it is answered 429.
BURST = 5
# What polls read (the tenant, its boards, its queue) is read again at least this often,
# events or not, behind the polls: they never wait for it. Events make it stale at once;
# this only bounds the damage of an event that never arrived (a lost Redis connection
# already makes every watch forget). Ten thousand boards are two thousand tenants, whose
# three reads each come back every few minutes rather than every minute.
BULK_MAX_AGE = 300.0


@dataclass(frozen=True, slots=True)
class _Facts:
    """What a poll from memory reads of its board, taken once as the board is checked:
    each read of a Beanie document's attribute goes through its lazy parser, and each
    lookup by ObjectId hashes it again, where a string keeps its hash."""

    board: str
    tenant: str
    admin_id: PydanticObjectId
    device_id: str
    last_seen_at: datetime | None
    marked_offline: bool
    signals: devices.Signals

    @classmethod
    def of(cls, device: Device) -> "_Facts":
        return cls(
            str(device.id),
            str(device.admin_id),
            device.admin_id,
            device.device_id,
            device.last_seen_at,
            device.marked_offline,
            devices.Signals.of(device),
        )


@dataclass(slots=True)
class _Allowance:
    """A board's poll allowance: `BURST` polls, refilled at twice the rate it is told."""

    tokens: float
    at: float


@dataclass(slots=True)
class _Verified:
    """A board whose key and tenant were found good, and when; and its poll allowance,
    which is the board's own, whatever spelling of its ids it is reached by."""

    key: bytes
    watch: TenantWatch
    generation: int
    board: Board
    facts: _Facts
    at: float
    allowance: _Allowance

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
        self._answers: dict[str, tuple[QueueView, int, PollAnswer]] = {}
        self._allowances: dict[str, _Allowance] = {}
        self._verified: dict[tuple[str, str], _Verified] = {}
        self._offline_after = settings.offline_after

    async def poll(
        self, *, admin_id: str, device_id: str, key: str | None, report: DeviceReport
    ) -> PollAnswer:
        check = await self._checked(admin_id, device_id, key)
        watch, facts = check.watch, check.facts
        self._limit(check.allowance)
        now = self._clock.now()

        view = await state.queue_view(watch, max_age=BULK_MAX_AGE, refresh_behind=True)
        table = presence()
        seen = table.last_seen(facts.board, facts.last_seen_at) or NEVER
        if self._needs_engines(facts, report, view, now, seen):
            # The engines note the poll in the presence table themselves.
            return await devices.poll_board(
                check.board, report, settings=self._settings, clock=self._clock
            )

        table.note(
            facts.board,
            now,
            stored=facts.last_seen_at,
            tenant_id=facts.admin_id,
            device_id=facts.device_id,
        )
        return self._answer(facts.tenant, watch.tenant_id, view, now)

    async def _checked(self, admin_id: str, device_id: str, key: str | None) -> _Verified:
        """The board's check: its tenant's watch and the board, once the key and the
        tenant are found good.

        A board that presents the key it presented last, while its tenant has heard no
        event since, is let through on that earlier check: any rotation, revocation or
        suspension is an event, after which the board is checked in full again.
        """
        claim = (admin_id, device_id)
        earlier = self._verified.get(claim)
        if earlier is not None and key is not None:
            # Without waiting, as a kept watch needs nothing read: most polls end here.
            kept = self._watches.touch_kept(earlier.watch.tenant_id)
            watch = kept or await self._watches.touch(earlier.watch.tenant_id)
            if earlier.still_good(watch, key.encode()):
                return earlier

        tenant_id = devices.claimed_tenant(admin_id=admin_id, device_id=device_id, key=key)
        assert key is not None
        watch = await self._watches.touch(tenant_id)
        generation = watch.generation
        found = await self._board(watch, tenant_id, device_id)
        board = devices.check_board(found, device_id=device_id, key=key)
        now = time.monotonic()
        facts = _Facts.of(board[0])
        # Kept by board, not by claim: a board checked again, or named another way (an
        # ObjectId is read in either case), keeps what is left of its allowance.
        allowance = self._allowances.setdefault(facts.board, _Allowance(float(BURST), now))
        check = _Verified(key.encode(), watch, generation, board, facts, now, allowance)
        self._verified[claim] = check
        return check

    def _answer(
        self, tenant: str, tenant_id: PydanticObjectId, view: QueueView, now: datetime
    ) -> PollAnswer:
        """The answer for the tenant's boards, made once per second and queue state."""
        second = int(now.timestamp())
        kept = self._answers.get(tenant)
        if kept is not None and kept[0] is view and kept[1] == second:
            return kept[2]

        answer = devices.answer_for(
            tenant_id, view.active, version=view.version, settings=self._settings, clock=self._clock
        )
        self._answers[tenant] = (view, second, answer)
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
        self, facts: _Facts, report: DeviceReport, view: QueueView, now: datetime, seen: datetime
    ) -> bool:
        # Silent as far as any worker knows: welcomed back (and announced) by the engines.
        if now - seen >= self._offline_after:
            return True
        if facts.marked_offline:
            return True
        if devices.report_changes(facts.signals, report):
            return True

        active = view.active
        if active is None:
            return bool(view.waiting)
        if active.status is RunStatus.RUNNING:
            due = deadline(active)
            return due is not None and due <= now
        return active.hold_reason is HoldReason.DEVICE_OFFLINE

    def _limit(self, allowance: _Allowance) -> None:
        # Real elapsed time, not the service's clock: a wall clock set back or forward
        # must neither lock boards out nor lift the limit.
        rate = 2 / self._settings.poll_seconds
        now = time.monotonic()
        tokens = min(float(BURST), allowance.tokens + (now - allowance.at) * rate)
        allowance.at = now
        if tokens < 1:
            allowance.tokens = tokens
            raise RateLimited(
                f"poll at most every {self._settings.poll_seconds} s",
                retry_after_seconds=math.ceil((1 - tokens) / rate),
            )
        allowance.tokens = tokens - 1

    async def flush(self) -> int:
        """Share this worker's polls through the presence table, mark the boards that
        fell silent offline, and drop old checks; returns how many boards' stored
        last-seen times were brought up to date."""
        self._forget_old()
        table = presence()
        await table.share()
        silent_since = self._clock.now() - self._offline_after
        for board in table.fell_silent(silent_since):
            await devices.mark_offline(
                board.board_id,
                board.tenant_id,
                board.device_id,
                last_seen=board.last_seen,
                cutoff=silent_since,
            )
        return await table.write_durable()

    def _forget_old(self) -> None:
        """Answers are kept for their second only, checks and allowances for a while:
        dropping them bounds the memory. An allowance unused that long is full again; a
        check goes with it, so that a board never has two allowances."""
        self._answers.clear()
        cutoff = time.monotonic() - BULK_MAX_AGE
        self._allowances = {
            board: allowance
            for board, allowance in self._allowances.items()
            if allowance.at >= cutoff
        }
        self._verified = {
            claim: check
            for claim, check in self._verified.items()
            if check.at >= cutoff and self._allowances.get(check.facts.board) is check.allowance
        }

    def flush_seconds(self) -> float:
        """How often to flush: a poll must reach every worker, through this worker's flush
        and theirs, well within the offline threshold (a third of it is left for the
        flushes themselves)."""
        spare = self._settings.offline_after_seconds - self._settings.poll_seconds
        return max(MIN_FLUSH_SECONDS, min(FLUSH_SECONDS, spare / 3))

    async def flush_forever(self) -> None:
        # On a fixed schedule: a slow flush does not push the next one later.
        interval = self.flush_seconds()
        due = time.monotonic() + interval
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            due = max(due + interval, time.monotonic())
            try:
                await self.flush()
            except Exception:
                if stopping():
                    # The closing flush writes what is left.
                    return
                # The presence table keeps what it heard; the next flush shares it.
                log.exception("sharing the boards' presence failed")

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
