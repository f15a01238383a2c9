"""The tenant's queue: one active run at a time, the rest WAITING in request order."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import conditions, versions, wallet
from pumppilot.engines.caller import Caller
from pumppilot.engines.duplicates import violated_index
from pumppilot.engines.ids import parse_id
from pumppilot.engines.runs import (
    chargeable_seconds,
    deadline,
    limit_reason,
    ms_run,
    remaining_seconds,
    seconds_held,
    seconds_run,
)
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

MAX_RUN_MINUTES = 24 * 60
OPEN_RUN_PER_USER_INDEX = "one_open_run_per_user"
STOP_ATTEMPTS = 5


@dataclass(frozen=True)
class QueueView:
    tenant_id: PydanticObjectId
    version: int
    active: Run | None
    waiting: list[Run]


@dataclass(frozen=True)
class Standing:
    """Where one user's run stands in a queue view; `run` is None when they have none."""

    run: Run | None = None
    position: int | None = None
    remaining_seconds: int = 0
    estimated_start_at: datetime | None = None


def standing_in(view: QueueView, user_id: PydanticObjectId, *, now: datetime) -> Standing:
    """The user's place in the view, with an estimated start for a waiting run.

    The estimate assumes the active run uses all it has left and every run ahead all it
    asked for, with any hold ending now: the latest start to expect, not a promise.
    """
    active = view.active
    if active is not None and active.user_id == user_id:
        return Standing(run=active, remaining_seconds=remaining_seconds(active, now))

    ahead = remaining_seconds(active, now) if active is not None else 0
    for number, run in enumerate(view.waiting, start=1):
        if run.user_id == user_id:
            start = now + timedelta(seconds=ahead)
            return Standing(run=run, position=number, estimated_start_at=start)
        ahead += run.requested_seconds
    return Standing()


async def start_run(
    *,
    tenant_id: PydanticObjectId,
    user_id: PydanticObjectId,
    minutes: int,
    settings: Settings,
    clock: Clock,
) -> Run:
    """Join the tenant's queue; the run becomes active at once when nothing else is."""
    if not 1 <= minutes <= MAX_RUN_MINUTES:
        raise BadUserInput(f"a run is 1 to {MAX_RUN_MINUTES} minutes")

    user = await User.get(user_id)
    tenant = await Admin.get(tenant_id)
    if user is None or tenant is None or user.admin_id != tenant_id:
        raise NotFound("no such user")
    if user.suspended or tenant.suspended:
        raise Suspended("this account is suspended; ask your admin")

    existing = await open_run_of(user_id)
    if existing is not None:
        return existing

    _ensure_enough_balance(user, tenant)
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
    await versions.bump(tenant_id)
    await promote_next(tenant_id, settings=settings, clock=clock)
    return await _reload(run)


def _ensure_enough_balance(user: User, tenant: Admin) -> None:
    needed = tenant.min_start_minutes * 60
    if user.balance_seconds < needed:
        raise InsufficientBalance(
            f"balance is {user.balance_seconds // 60} minutes; "
            f"at least {tenant.min_start_minutes} is needed to start"
        )


async def stop_run(
    *, tenant_id: PydanticObjectId, user_id: PydanticObjectId, clock: Clock, settings: Settings
) -> Run:
    """End the user's own run: a WAITING one leaves the queue, an active one stops."""
    for _ in range(STOP_ATTEMPTS):
        run = await open_run_of(user_id)
        if run is None or run.admin_id != tenant_id:
            raise NotFound("you have no run to stop")

        if await end_run(
            run, reason=_stop_reason(run, clock.now()), settings=settings, clock=clock
        ):
            return await _reload(run)
        # The run moved on between reading and ending it (it was promoted, held or
        # settled): read it again and end it in its new state.

    raise Conflict("the run kept changing while stopping it; try again")


async def leave_queue(
    *, tenant_id: PydanticObjectId, user_id: PydanticObjectId, clock: Clock, settings: Settings
) -> Run:
    """Give up a WAITING place; an active run is stopped with `stop_run` instead."""
    run = await open_run_of(user_id)
    if run is None or run.admin_id != tenant_id or run.status is not RunStatus.WAITING:
        raise NotFound("you are not waiting in the queue")
    if not await end_run(run, reason=EndReason.LEFT_QUEUE, settings=settings, clock=clock):
        raise Conflict("your run started while leaving; stop it instead")
    return await _reload(run)


async def end_run_as_admin(*, actor: Caller, run_id: str, clock: Clock, settings: Settings) -> Run:
    """An admin stops the active run or removes a waiting one from their own queue."""
    actor.require(Role.ADMIN)
    run = await Run.get(parse_id(run_id, what="runId"))
    if run is None or run.admin_id != actor.own_tenant():
        raise NotFound("no such run")
    if not run.open:
        raise Conflict("that run has already ended")

    for _ in range(STOP_ATTEMPTS):
        if await end_run(run, reason=EndReason.STOPPED_BY_ADMIN, settings=settings, clock=clock):
            return await _reload(run)
        run = await _reload(run)
        if not run.open:
            return run
    raise Conflict("the run kept changing while stopping it; try again")


def _stop_reason(run: Run, now: datetime) -> EndReason:
    if run.status is RunStatus.WAITING:
        return EndReason.LEFT_QUEUE
    if run.status is RunStatus.RUNNING and remaining_seconds(run, now) == 0:
        return limit_reason(run)
    return EndReason.STOPPED_BY_USER


async def end_run(run: Run, *, reason: EndReason, settings: Settings, clock: Clock) -> bool:
    """Move a run to its end, charge it and start the next one; False if another got there.

    The write is conditional on the state the charge was computed from, so of two
    processes ending the same run only one charges it.
    """
    now = clock.now()
    charge = await _capped_charge(run, now)
    ended = RunStatus.DONE if run.status in ACTIVE_STATUSES else RunStatus.CANCELLED
    changes: dict[str, Any] = {
        **status_fields(ended),
        "accrued_ms": ms_run(run, now),
        "running_since": None,
        "deadline_at": None,
        "held_since": None,
        "held_ms": seconds_held(run, now) * 1000 if run.held_since else run.held_ms,
        "ended_at": now,
        "end_reason": reason,
        "charged_seconds": charge,
        "settled": ended is not RunStatus.DONE,
    }
    if run.status is RunStatus.HOLD and run.holds:
        changes[f"holds.{len(run.holds) - 1}.ended_at"] = now

    result = await Run.get_pymongo_collection().update_one(
        {
            "_id": run.id,
            "status": run.status,
            "accrued_ms": run.accrued_ms,
            "running_since": run.running_since,
            "held_since": run.held_since,
        },
        {"$set": changes},
    )
    if result.modified_count == 0:
        return False

    log.info("run %s ended (%s), charged %d s", run.id, reason.value, charge)
    if ended is RunStatus.DONE:
        await _settle_account(run, charge=charge, reason=reason, now=now, clock=clock)
        await Run.get_pymongo_collection().update_one({"_id": run.id}, {"$set": {"settled": True}})

    await versions.bump(run.admin_id)
    await promote_next(run.admin_id, settings=settings, clock=clock)
    return True


async def settle_due(
    tenant_id: PydanticObjectId,
    *,
    settings: Settings,
    clock: Clock,
    tenant: Admin | None = None,
) -> Run | None:
    """Bring the tenant's queue up to date with the clock and the boards' reports.

    Ends the active run if its limit has passed, holds it if conditions are unsafe,
    resumes it if they recovered, and starts the next run if none is active. Returns
    the active run after settling. A caller that has just read the tenant passes it,
    which saves the device poll a read.
    """
    tenant = tenant or await Admin.get(tenant_id)
    active = await active_run(tenant_id)
    if tenant is None or tenant.suspended:
        return active
    if active is None:
        return await promote_next(tenant_id, settings=settings, clock=clock)

    now = clock.now()
    unsafe = await conditions.unsafe_conditions(tenant, settings=settings, now=now)
    if active.status is RunStatus.RUNNING:
        due = deadline(active)
        stopped_at = unsafe.since if unsafe is not None else now
        if due is not None and due <= stopped_at:
            await end_run(active, reason=limit_reason(active), settings=settings, clock=clock)
        elif unsafe is not None:
            await conditions.hold(active, unsafe.reason, at=unsafe.since)
    elif unsafe is None:
        await conditions.resume(active, at=now)
    elif unsafe.reason is not active.hold_reason:
        await conditions.change_reason(active, unsafe.reason)

    return await active_run(tenant_id)


async def promote_next(
    tenant_id: PydanticObjectId, *, settings: Settings, clock: Clock
) -> Run | None:
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

        promoted = await _try_promote(candidate, tenant, settings=settings, clock=clock)
        if promoted is not None:
            return promoted


async def tenant_queue(
    tenant_id: PydanticObjectId, *, settings: Settings, clock: Clock
) -> QueueView:
    await settle_due(tenant_id, settings=settings, clock=clock)
    return await load_queue(tenant_id)


async def load_queue(tenant_id: PydanticObjectId) -> QueueView:
    """The tenant's open runs as stored, without ending any that are due first.

    The version is read before the runs, so it is never newer than they are: a board
    answered from this view never pairs an old run with a newer `seq`.
    """
    admin = await Admin.get(tenant_id)
    if admin is None:
        raise NotFound("no such tenant")
    runs = await Run.find({"admin_id": tenant_id, "open": True}).sort("+ticket").to_list()

    active = next((run for run in runs if run.active), None)
    waiting = [run for run in runs if run.status is RunStatus.WAITING]
    return QueueView(
        tenant_id=tenant_id, version=admin.queue_version, active=active, waiting=waiting
    )


async def settle_unsettled_runs(*, clock: Clock) -> int:
    """Finish the debit and usage record of runs whose process died right after ending them.

    Both steps are idempotent (the debit by its ref, the record by its run), so a run
    being settled by its own process at the same moment comes to no harm.
    """
    unsettled = await Run.find({"settled": False}).to_list()
    for run in unsettled:
        assert run.ended_at is not None
        assert run.end_reason is not None
        await _settle_account(
            run,
            charge=run.charged_seconds or 0,
            reason=run.end_reason,
            now=run.ended_at,
            clock=clock,
        )
        await Run.get_pymongo_collection().update_one({"_id": run.id}, {"$set": {"settled": True}})
        log.warning("settled run %s left unsettled by a stopped process", run.id)
    return len(unsettled)


async def waiting_position(run: Run) -> int | None:
    """1 for the first WAITING run of the tenant, and so on; None for any other status."""
    if run.status is not RunStatus.WAITING:
        return None

    ahead = await Run.find(
        Run.admin_id == run.admin_id, Run.status == RunStatus.WAITING, Run.ticket < run.ticket
    ).count()
    return ahead + 1


def shows_name(run: Run, *, viewer_id: PydanticObjectId, viewer_role: Role) -> bool:
    """Users see where everyone stands in the queue but only their own name."""
    return viewer_role is not Role.USER or run.user_id == viewer_id


async def open_run_of(user_id: PydanticObjectId) -> Run | None:
    return await Run.find_one({"user_id": user_id, "open": True})


async def active_run(tenant_id: PydanticObjectId) -> Run | None:
    return await Run.find_one({"admin_id": tenant_id, "active": True})


async def _try_promote(
    candidate: Run, tenant: Admin, *, settings: Settings, clock: Clock
) -> Run | None:
    user = await User.get(candidate.user_id)
    if user is None or user.suspended:
        await end_run(candidate, reason=EndReason.SUSPENDED, settings=settings, clock=clock)
        return None
    if user.balance_seconds < tenant.min_start_minutes * 60:
        await end_run(candidate, reason=EndReason.BALANCE_EXHAUSTED, settings=settings, clock=clock)
        return None

    now = clock.now()
    limit = min(candidate.requested_seconds, user.balance_seconds)
    unsafe = await conditions.unsafe_conditions(tenant, settings=settings, now=now)
    try:
        raw = await Run.get_pymongo_collection().find_one_and_update(
            {"_id": candidate.id, "status": RunStatus.WAITING},
            {"$set": _activation(candidate, limit=limit, unsafe=unsafe, now=now)},
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        # Another process made a run active first; that one stands.
        return await active_run(candidate.admin_id)

    if raw is None:
        return None

    run = _from_raw(raw)
    log.info("run %s became %s for user %s", run.id, run.status.value, run.user_id)
    await versions.bump(candidate.admin_id)
    return run


def _activation(
    candidate: Run, *, limit: int, unsafe: conditions.Unsafe | None, now: datetime
) -> dict[str, Any]:
    """The fields of a run that becomes active: RUNNING, or straight to HOLD if unsafe."""
    fields: dict[str, Any] = {"started_at": now, "limit_seconds": limit}
    if unsafe is None:
        running = candidate.model_copy(
            update={"status": RunStatus.RUNNING, "running_since": now, "limit_seconds": limit}
        )
        return {
            **fields,
            **status_fields(RunStatus.RUNNING),
            "running_since": now,
            "deadline_at": deadline(running),
        }
    return {
        **fields,
        **status_fields(RunStatus.HOLD),
        "hold_reason": unsafe.reason,
        "held_since": now,
        "holds": [{"reason": unsafe.reason, "started_at": now, "ended_at": None}],
    }


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
    holds = [span.model_copy(update={"ended_at": span.ended_at or now}) for span in run.holds]
    record = UsageRecord(
        admin_id=run.admin_id,
        user_id=run.user_id,
        run_id=run.id,
        date=now.date().isoformat(),
        started_at=run.started_at,
        ended_at=now,
        seconds_run=seconds_run(run, now),
        seconds_held=seconds_held(run, now),
        charged_seconds=charge,
        end_reason=reason,
        holds=holds,
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


async def _reload(run: Run) -> Run:
    assert run.id is not None
    fresh = await Run.get(run.id)
    if fresh is None:
        raise NotFound("the run no longer exists")
    return fresh


def _from_raw(raw: dict[str, Any]) -> Run:
    run: Run = Run.model_validate(raw)
    return run
