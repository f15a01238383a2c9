"""When each board last polled, as this worker and the other workers heard it.

Ten thousand boards polling every 5 s are 2,000 polls a second, and the offline rule
needs each board's last poll known to every worker within seconds. Written to each
board's document, that is as many store writes as polls; the embedded store manages
about a thousand updates a second on a whole core. So each worker remembers the polls
it answered and, at each flush, replaces one document (`WorkerPresence`) listing them,
then reads the other workers' documents. Whether a board is online is decided on the
newest of three times: its stored `last_seen_at`, this worker's memory, and the other
workers' documents.

A board's own `last_seen_at` is still brought up to date, at a bounded rate
(`DURABLE_PER_FLUSH`), for boards whose stored time is `DURABLE_SECONDS` behind; and at
once when a board falls silent, in the same write that marks it offline.

The engines ask the process's table (`presence()`), as they publish on its event bus:
a worker installs its own when it starts; anything else gets an empty table that only
remembers what passed through the engines in this process.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from beanie import PydanticObjectId
from pymongo import UpdateOne

from pumppilot.clock import Clock, SystemClock
from pumppilot.models import Device, WorkerPresence
from pumppilot.models.security import seen_within

# A board's stored last-seen time is brought up to date once it is this far behind its
# last poll, for at most `DURABLE_PER_FLUSH` boards per flush, the furthest behind first:
# 40 writes a second per worker at a 5 s flush.
DURABLE_SECONDS = 300
DURABLE_PER_FLUSH = 200
# A worker that wrote nothing for this long has stopped. Its document is deleted, at most
# once a minute: its polls matter while runs are held over them, within seconds, and a
# crash-looping worker leaves a document per start.
FORGET_WORKER = timedelta(minutes=10)
FORGET_EVERY_SECONDS = 60.0
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Heard:
    """A board this worker answered: its last poll, and the newest time the store holds."""

    at: datetime
    stored: datetime
    tenant_id: PydanticObjectId
    device_id: str


@dataclass(frozen=True, slots=True)
class SilentBoard:
    board_id: PydanticObjectId
    tenant_id: PydanticObjectId
    device_id: str
    last_seen: datetime


class Presence:
    """The newest poll of each board that this process knows of, and the flush that
    shares it with the other workers.

    Boards are named by their document id in hex, as in the shared documents: a string
    keeps its hash, where an ObjectId's is computed again at every lookup.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.worker = uuid4().hex
        self._clock = clock or SystemClock()
        self._heard: dict[str, _Heard] = {}
        self._others: dict[str, datetime] = {}
        self._forgotten_at = time.monotonic()

    def note(
        self,
        board: str,
        at: datetime,
        *,
        stored: datetime | None,
        tenant_id: PydanticObjectId,
        device_id: str,
    ) -> None:
        """A poll of `board` at `at`; `stored` is the newest last-seen time in the store."""
        entry = self._heard.get(board)
        if entry is None:
            self._heard[board] = _Heard(at, stored or NEVER, tenant_id, device_id)
            return
        entry.at = max(entry.at, at)
        if stored is not None:
            entry.stored = max(entry.stored, stored)

    def heard(self, device: Device, at: datetime, *, stored: datetime | None = None) -> None:
        """A poll of `device` at `at`; `stored` is a last-seen time just written."""
        known = max(stored or NEVER, device.last_seen_at or NEVER)
        self.note(
            str(device.id), at, stored=known, tenant_id=device.admin_id, device_id=device.device_id
        )

    def last_seen(self, board: str, stored: datetime | None) -> datetime | None:
        """The newest poll of the board known here: stored, heard here, or by others."""
        newest = stored
        entry = self._heard.get(board)
        if entry is not None and (newest is None or entry.at > newest):
            newest = entry.at
        other = self._others.get(board)
        if other is not None and (newest is None or other > newest):
            newest = other
        return newest

    def online(self, device: Device, now: datetime, offline_after: timedelta) -> bool:
        """Whether the board polled, on any worker, within `offline_after` of `now`."""
        seen = self.last_seen(str(device.id), device.last_seen_at)
        return seen_within(seen, now, offline_after)

    async def share(self) -> None:
        """Write what this worker heard, then read what the others did.

        Writing comes first: it is what keeps other workers from holding the runs of this
        worker's boards, so nothing may delay or prevent it.
        """
        await self._publish(self._clock.now())
        await self.refresh()

    async def refresh(self) -> None:
        """Read the other workers' documents; a worker does this as it starts, too."""
        now = self._clock.now()
        others: dict[str, datetime] = {}
        found = WorkerPresence.get_pymongo_collection().find(
            {"worker": {"$ne": self.worker}, "written_at": {"$gte": now - FORGET_WORKER}}
        )
        async for document in found:
            for board, at in document["seen"].items():
                if at > others.get(board, NEVER):
                    others[board] = at
        self._others = others

    def fell_silent(self, cutoff: datetime) -> list[SilentBoard]:
        """The boards this worker heard that no worker heard since `cutoff`, forgotten
        here as they are returned: marking them offline is the engines' to do."""
        silent = [
            (board, seen)
            for board, entry in self._heard.items()
            if (seen := self.last_seen(board, entry.stored) or NEVER) < cutoff
        ]
        found = []
        for board, seen in silent:
            entry = self._heard.pop(board)
            found.append(
                SilentBoard(PydanticObjectId(board), entry.tenant_id, entry.device_id, seen)
            )
        return found

    async def write_durable(self) -> int:
        """Bring the furthest-behind stored times up to date; returns how many."""
        behind = timedelta(seconds=DURABLE_SECONDS)
        due = [
            (board, entry)
            for board, entry in self._heard.items()
            if entry.at - entry.stored >= behind
        ]
        due.sort(key=lambda item: item[1].stored)
        due = due[:DURABLE_PER_FLUSH]
        if not due:
            return 0

        # One update by id per board: the embedded store matches a list of ids (`$in`) by
        # comparing every board with every id.
        await Device.get_pymongo_collection().bulk_write(
            [
                UpdateOne(
                    {"_id": PydanticObjectId(board), "last_seen_at": {"$lt": entry.at}},
                    {"$set": {"last_seen_at": entry.at}},
                )
                for board, entry in due
            ],
            ordered=False,
        )
        for _, entry in due:
            entry.stored = entry.at
        return len(due)

    async def _publish(self, now: datetime) -> None:
        seen = {board: entry.at for board, entry in self._heard.items()}
        collection = WorkerPresence.get_pymongo_collection()
        await collection.replace_one(
            {"worker": self.worker},
            {"worker": self.worker, "written_at": now, "seen": seen},
            upsert=True,
        )
        if time.monotonic() - self._forgotten_at >= FORGET_EVERY_SECONDS:
            self._forgotten_at = time.monotonic()
            await collection.delete_many({"written_at": {"$lt": now - FORGET_WORKER}})


_presence = Presence()


def presence() -> Presence:
    return _presence


def use_presence(table: Presence) -> None:
    global _presence  # noqa: PLW0603 - one table per process, as with the event bus
    _presence = table
