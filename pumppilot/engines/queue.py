"""The tenant's queue: one active run at a time, the rest WAITING in request order."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.engines import wallet
from pumppilot.engines.duplicates import violated_index
from pumppilot.engines.runs import chargeable_seconds, limit_reason, remaining_seconds, seconds_run
from pumppilot.errors import BadUserInput, Conflict, InsufficientBalance, NotFound, Suspended
from pumppilot.models import (
    ACTIVE_STATUSES,
    Admin,
    EndReason,
    LedgerKind,
    Role,
    Run,
    RunStatus,
    UsageRecord,
    User,
    status_fields,
)

log = logging.getLogger(__name__)

MIN_START_SECONDS = 60
MAX_RUN_MINUTES = 24 * 60
OPEN_RUN_PER_USER_INDEX = "one_open_run_per_user"
STOP_ATTEMPTS = 5


@dataclass(frozen=True)
class QueueView:
    tenant_id: PydanticObjectId
    version: int
    active: Run | None
    waiting: list[Run]


async def start_run(
    *, tenant_id: PydanticObjectId, user_id: PydanticObjectId, minutes: int, clock: Clock
) -> Run:
    """Join the tenant's queue; the run becomes active at once when nothing else is."""
    if not 1 <= minutes <= MAX_RUN_MINUTES:
        raise BadUserInput(f"a run is 1 to {MAX_RUN_MINUTES} minutes")

    user = await User.get(user_id)
    if user is None or user.admin_id != tenant_id:
        raise NotFound("no such user")
    if user.suspended:
        raise Suspended("this account is suspended; ask your admin")

    existing = await open_run_of(user_id)
    if existing is not None:
        return existing

    if user.balance_seconds < MIN_START_SECONDS:
        raise InsufficientBalance(
            f"balance is {user.balance_seconds // 60} minutes; "
            f"at least {MIN_START_SECONDS // 60} is needed to start"
        )

    run = Run(
        **status_fields(RunStatus.WAITING),
        admin_id=tenant_id,
        user_id=user_id,
        user_name=user.name,
        ticket=await _next_ticket(tenant_id),
        requested_seconds=minutes * 60,
        requested_at=clock.now(),
    )
    try:
        await run.insert()
    except DuplicateKeyError as exc:
        if violated_index(exc) != OPEN_RUN_PER_USER_INDEX:
            raise
        # The same user pressed start twice at once: both presses get the one run.
        raced = await open_run_of(user_id)
        if raced is None:
            raise
        return raced

    log.info("run %s requested by user %s in tenant %s", run.id, user_id, tenant_id)
    await _bump_version(tenant_id)
    await promote_next(tenant_id, clock=clock)
    return await _reload(run)


async def stop_run(*, tenant_id: PydanticObjectId, user_id: PydanticObjectId, clock: Clock) -> Run:
    """End the user's own run: a WAITING one leaves the queue, an active one stops."""
    for _ in range(STOP_ATTEMPTS):
        run = await open_run_of(user_id)
        if run is None or run.admin_id != tenant_id:
            raise NotFound("you have no run to stop")

        if await end_run(run, reason=_stop_reason(run, clock.now()), clock=clock):
            return await _reload(run)
        # The run moved on between reading and ending it (it was promoted, or settled):
        # read it again and end it in its new state.

    raise Conflict("the run kept changing while stopping it; try again")


def _stop_reason(run: Run, now: datetime) -> EndReason:
    if run.status is RunStatus.WAITING:
        return EndReason.LEFT_QUEUE
    if run.status is RunStatus.RUNNING and remaining_seconds(run, now) == 0:
        return limit_reason(run)
    return EndReason.STOPPED_BY_USER


async def end_run(run: Run, *, reason: EndReason, clock: Clock) -> bool:
    """Move a run to its end, charge it and start the next one; False if another got there.

    The write is conditional on the state the charge was computed from, so of two
    processes ending the same run only one charges it.
    """
    now = clock.now()
    charge = await _capped_charge(run, now)
    ended = RunStatus.DONE if run.status in ACTIVE_STATUSES else RunStatus.CANCELLED

    result = await Run.get_pymongo_collection().update_one(
        {
            "_id": run.id,
            "status": run.status,
            "accrued_seconds": run.accrued_seconds,
            "running_since": run.running_since,
        },
        {
            "$set": {
                **status_fields(ended),
                "accrued_seconds": seconds_run(run, now),
                "running_since": None,
                "ended_at": now,
                "end_reason": reason,
                "charged_seconds": charge,
            }
        },
    )
    if result.modified_count == 0:
        return False

    log.info("run %s ended (%s), charged %d s", run.id, reason.value, charge)
    if ended is RunStatus.DONE:
        await _settle_account(run, charge=charge, reason=reason, now=now, clock=clock)

    await _bump_version(run.admin_id)
    await promote_next(run.admin_id, clock=clock)
    return True


async def settle_due(tenant_id: PydanticObjectId, *, clock: Clock) -> Run | None:
    """End the active run if its limit has passed; start the next if none is active.

    Returns the tenant's active run after settling.
    """
    active = await active_run(tenant_id)
    if active is None:
        return await promote_next(tenant_id, clock=clock)

    if active.status is RunStatus.RUNNING and remaining_seconds(active, clock.now()) == 0:
        await end_run(active, reason=limit_reason(active), clock=clock)
        return await active_run(tenant_id)

    return active


async def promote_next(tenant_id: PydanticObjectId, *, clock: Clock) -> Run | None:
    """Make the first WAITING run active if nothing is; the unique index settles races."""
    tenant = await Admin.get(tenant_id)
    if tenant is None or tenant.suspended:
        return None

    while True:
        active = await active_run(tenant_id)
        if active is not None:
            return active

        candidate = await (
            Run.find(Run.admin_id == tenant_id, Run.status == RunStatus.WAITING)
            .sort("+ticket")
            .first_or_none()
        )
        if candidate is None:
            return None

        promoted = await _try_promote(candidate, clock=clock)
        if promoted is not None:
            return promoted


async def tenant_queue(tenant_id: PydanticObjectId, *, clock: Clock) -> QueueView:
    await settle_due(tenant_id, clock=clock)

    runs = await Run.find(Run.admin_id == tenant_id, Run.open == True).sort("+ticket").to_list()  # noqa: E712
    admin = await Admin.get(tenant_id)
    if admin is None:
        raise NotFound("no such tenant")

    active = next((run for run in runs if run.active), None)
    waiting = [run for run in runs if run.status is RunStatus.WAITING]
    return QueueView(
        tenant_id=tenant_id, version=admin.queue_version, active=active, waiting=waiting
    )


async def waiting_position(run: Run) -> int | None:
    """1 for the first WAITING run of the tenant, and so on; None for any other status."""
    if run.status is not RunStatus.WAITING:
        return None

    ahead = await Run.find(
        Run.admin_id == run.admin_id, Run.status == RunStatus.WAITING, Run.ticket < run.ticket
    ).count()
    return ahead + 1


async def open_run_of(user_id: PydanticObjectId) -> Run | None:
    return await Run.find_one(Run.user_id == user_id, Run.open == True)  # noqa: E712


async def active_run(tenant_id: PydanticObjectId) -> Run | None:
    return await Run.find_one(Run.admin_id == tenant_id, Run.active == True)  # noqa: E712


async def _try_promote(candidate: Run, *, clock: Clock) -> Run | None:
    user = await User.get(candidate.user_id)
    if user is None or user.suspended:
        await end_run(candidate, reason=EndReason.SUSPENDED, clock=clock)
        return None
    if user.balance_seconds < MIN_START_SECONDS:
        await end_run(candidate, reason=EndReason.BALANCE_EXHAUSTED, clock=clock)
        return None

    balance = user.balance_seconds

    now = clock.now()
    try:
        raw = await Run.get_pymongo_collection().find_one_and_update(
            {"_id": candidate.id, "status": RunStatus.WAITING},
            {
                "$set": {
                    **status_fields(RunStatus.RUNNING),
                    "running_since": now,
                    "started_at": now,
                    "limit_seconds": min(candidate.requested_seconds, balance),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        # Another process made a run active first; that one stands.
        return await active_run(candidate.admin_id)

    if raw is None:
        return None

    log.info("run %s started for user %s", candidate.id, candidate.user_id)
    await _bump_version(candidate.admin_id)
    return _from_raw(raw)


async def _capped_charge(run: Run, now: datetime) -> int:
    charge = chargeable_seconds(run, now)
    if charge == 0:
        return 0

    # The charge never exceeds what the balance holds now, so a balance can never go
    # negative, whatever changed it during the run.
    user = await User.get(run.user_id)
    return min(charge, user.balance_seconds if user is not None else 0)


async def _settle_account(
    run: Run, *, charge: int, reason: EndReason, now: datetime, clock: Clock
) -> None:
    user = await User.get(run.user_id)
    if user is not None and charge > 0:
        await wallet.apply_entry(
            user=user,
            kind=LedgerKind.DEBIT,
            seconds=-charge,
            actor_id=None,
            reason=f"run ended: {reason.value}",
            ref=f"run:{run.id}",
            clock=clock,
        )

    assert run.id is not None
    record = UsageRecord(
        admin_id=run.admin_id,
        user_id=run.user_id,
        run_id=run.id,
        date=now.date().isoformat(),
        started_at=run.started_at,
        ended_at=now,
        seconds_run=seconds_run(run, now),
        charged_seconds=charge,
        end_reason=reason,
    )
    try:
        await record.insert()
    except DuplicateKeyError:
        log.warning("usage record for run %s already existed", run.id)


async def _next_ticket(tenant_id: PydanticObjectId) -> int:
    raw = await Admin.get_pymongo_collection().find_one_and_update(
        {"_id": tenant_id, "suspended": {"$ne": True}},
        {"$inc": {"ticket_counter": 1}},
        return_document=ReturnDocument.AFTER,
        projection={"ticket_counter": 1},
    )
    if raw is None:
        raise Suspended("this pump's operator is suspended")
    return int(raw["ticket_counter"])


async def _bump_version(tenant_id: PydanticObjectId) -> None:
    await Admin.get_pymongo_collection().update_one(
        {"_id": tenant_id}, {"$inc": {"queue_version": 1}}
    )
    await events.publish("queue", tenant_id)


async def _reload(run: Run) -> Run:
    assert run.id is not None
    fresh = await Run.get(run.id)
    if fresh is None:
        raise NotFound("the run no longer exists")
    return fresh


def _from_raw(raw: dict[str, Any]) -> Run:
    run: Run = Run.model_validate(raw)
    return run


def shows_name(run: Run, *, viewer_id: PydanticObjectId, viewer_role: Role) -> bool:
    """Users see where everyone stands in the queue but only their own name."""
    return viewer_role is not Role.USER or run.user_id == viewer_id
