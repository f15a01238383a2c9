"""Whether it is safe to run a tenant's pump, and pausing or resuming the run to match.

A run is held, and its charge stops, while the admin holds the pump, while no board of
the tenant has polled recently, or while a board reports load shedding or not ready.
When the conditions recover, the run resumes with its remaining time intact.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pumppilot.config import Settings
from pumppilot.engines import versions
from pumppilot.engines.runs import deadline, ms_run
from pumppilot.models import Admin, Device, HoldReason, Run, RunStatus, status_fields
from pumppilot.models.security import seen_within
from pumppilot.presence import presence

log = logging.getLogger(__name__)

SIGNALS = {"_id": 1, "last_seen_at": 1, "load_shedding": 1, "ready": 1}


@dataclass(frozen=True)
class Unsafe:
    reason: HoldReason
    # When the motor stopped for this reason, as far as the server can tell.
    since: datetime


async def unsafe_conditions(tenant: Admin, *, settings: Settings, now: datetime) -> Unsafe | None:
    """The strongest reason the tenant's pump may not run now, or None when it may."""
    if tenant.manual_hold:
        return Unsafe(HoldReason.ADMIN_HOLD, now)

    # Only the three fields, undecoded into documents: the timer asks this every second
    # for every tenant with a run, and a tenant may have many boards.
    found = Device.get_pymongo_collection().find({"admin_id": tenant.id, "revoked": False}, SIGNALS)
    boards = await found.to_list()
    # The stored time may lag the board's last poll: the workers' presence has the newest.
    table = presence()
    for board in boards:
        board["last_seen_at"] = table.last_seen(str(board["_id"]), board.get("last_seen_at"))
    seen = [board["last_seen_at"] for board in boards if board["last_seen_at"] is not None]
    online = [
        board for board in boards if seen_within(board["last_seen_at"], now, settings.offline_after)
    ]
    if not online:
        return Unsafe(HoldReason.DEVICE_OFFLINE, _motor_stopped_at(seen, settings, now))
    if any(board.get("load_shedding") for board in online):
        return Unsafe(HoldReason.LOAD_SHEDDING, now)
    if any(board.get("ready") is False for board in online):
        return Unsafe(HoldReason.DEVICE_NOT_READY, now)
    return None


def _motor_stopped_at(seen: list[datetime], settings: Settings, now: datetime) -> datetime:
    # A silent board switches its motor off when its last answer's lease runs out, so the
    # run is held from then: the user pays for the lease, never for the silence after it.
    if not seen:
        return now
    return min(now, max(seen) + timedelta(seconds=settings.lease_seconds))


async def hold(run: Run, reason: HoldReason, *, at: datetime) -> bool:
    """RUNNING to HOLD as of `at`; False if the run changed in the meantime."""
    assert run.running_since is not None
    at = max(at, run.running_since)
    result = await Run.get_pymongo_collection().update_one(
        {"_id": run.id, "status": RunStatus.RUNNING, "running_since": run.running_since},
        {
            "$set": {
                **status_fields(RunStatus.HOLD),
                "accrued_ms": ms_run(run, at),
                "running_since": None,
                "deadline_at": None,
                "hold_reason": reason,
                "held_since": at,
            },
            "$push": {"holds": {"reason": reason, "started_at": at, "ended_at": None}},
        },
    )
    return await _announced(result.modified_count, run, f"held ({reason.value})")


async def resume(run: Run, *, at: datetime) -> bool:
    """HOLD to RUNNING as of `at`, with the remaining time intact."""
    assert run.held_since is not None
    held = max(0, round((at - run.held_since).total_seconds() * 1000))
    resumed = run.model_copy(update={"status": RunStatus.RUNNING, "running_since": at})
    result = await Run.get_pymongo_collection().update_one(
        {"_id": run.id, "status": RunStatus.HOLD, "held_since": run.held_since},
        {
            "$set": {
                **status_fields(RunStatus.RUNNING),
                "running_since": at,
                "deadline_at": deadline(resumed),
                "hold_reason": None,
                "held_since": None,
                "held_ms": run.held_ms + held,
                f"holds.{len(run.holds) - 1}.ended_at": at,
            }
        },
    )
    return await _announced(result.modified_count, run, "resumed")


async def change_reason(run: Run, reason: HoldReason) -> bool:
    result = await Run.get_pymongo_collection().update_one(
        {"_id": run.id, "status": RunStatus.HOLD, "held_since": run.held_since},
        {"$set": {"hold_reason": reason, f"holds.{len(run.holds) - 1}.reason": reason}},
    )
    return await _announced(result.modified_count, run, f"still held ({reason.value})")


async def _announced(modified: int, run: Run, what: str) -> bool:
    if not modified:
        return False

    log.info("run %s %s", run.id, what)
    await versions.bump(run.admin_id)
    return True
