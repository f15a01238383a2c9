"""Users ask their admin for more minutes; the admin approves (which recharges) or rejects.

A decision is a conditional write on a PENDING request, so two admins deciding at once
cannot both win. An approval is marked first and credited after, with the credit keyed
by the request; a process killed in between leaves `credited: false`, which the timer's
sweep completes, so an approval is credited exactly once.
"""

import logging

from beanie import PydanticObjectId

from pumppilot.clock import Clock
from pumppilot.engines import audit, wallet
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.engines.ids import parse_id
from pumppilot.errors import BadUserInput, Conflict, NotFound
from pumppilot.models import LedgerKind, MinuteRequest, MinuteRequestStatus, Role, User

log = logging.getLogger(__name__)

MAX_MINUTES = 24 * 60
MAX_NOTE = 280
MAX_PENDING_PER_USER = 3
MAX_PAGE = 200


async def request_minutes(
    *, caller: Caller, minutes: int, note: str, clock: Clock
) -> MinuteRequest:
    caller.require(Role.USER)
    if not 0 < minutes <= MAX_MINUTES:
        raise BadUserInput(f"a request is 1 to {MAX_MINUTES} minutes")
    if len(note) > MAX_NOTE:
        raise BadUserInput(f"a note has at most {MAX_NOTE} characters")

    pending = await MinuteRequest.find(
        MinuteRequest.user_id == caller.account_id,
        MinuteRequest.status == MinuteRequestStatus.PENDING,
    ).count()
    if pending >= MAX_PENDING_PER_USER:
        raise Conflict(f"you already have {pending} requests waiting for your admin")

    request = MinuteRequest(
        admin_id=caller.own_tenant(),
        user_id=caller.account_id,
        minutes=minutes,
        note=note.strip(),
        created_at=clock.now(),
    )
    await request.insert()
    log.info("user %s asked for %d minutes", caller.account_id, minutes)
    return request


async def decide(
    *, actor: Caller, request_id: str, approve: bool, note: str, clock: Clock
) -> MinuteRequest:
    actor.require(Role.ADMIN)
    if len(note) > MAX_NOTE:
        raise BadUserInput(f"a note has at most {MAX_NOTE} characters")
    request = await MinuteRequest.get(parse_id(request_id, what="requestId"))
    if request is None or request.admin_id != actor.own_tenant():
        raise NotFound("no such request")

    status = MinuteRequestStatus.APPROVED if approve else MinuteRequestStatus.REJECTED
    decided = await MinuteRequest.get_pymongo_collection().update_one(
        {"_id": request.id, "status": MinuteRequestStatus.PENDING},
        {
            "$set": {
                "status": status,
                "decided_at": clock.now(),
                "decided_by": actor.account_id,
                "decision_note": note.strip(),
                "credited": not approve,
            }
        },
    )
    if not decided.modified_count:
        raise Conflict("that request was already decided")

    if approve:
        await _credit(request, actor_id=actor.account_id, clock=clock)
        await audit.record(
            AuditAction.RECHARGE,
            clock=clock,
            actor=actor,
            tenant_id=request.admin_id,
            target=str(request.user_id),
            detail=f"{request.minutes} minutes, approving a request",
        )
    fresh = await MinuteRequest.get(request.id)
    assert fresh is not None
    return fresh


async def requests_for(
    caller: Caller, *, status: MinuteRequestStatus | None, limit: int
) -> list[MinuteRequest]:
    """A user's own requests, or all of an admin's tenant; newest first."""
    caller.require(Role.ADMIN, Role.USER)
    filters: dict[str, object] = {"admin_id": caller.own_tenant()}
    if caller.role is Role.USER:
        filters["user_id"] = caller.account_id
    if status is not None:
        filters["status"] = status
    size = max(1, min(limit, MAX_PAGE))
    return await MinuteRequest.find(filters).sort("-_id").limit(size).to_list()


async def credit_uncredited(*, clock: Clock) -> int:
    """Credit approvals that a stopped process marked but did not credit."""
    owed = await MinuteRequest.find(
        {"status": MinuteRequestStatus.APPROVED, "credited": False}
    ).to_list()
    for request in owed:
        await _credit(request, actor_id=request.decided_by, clock=clock)
    return len(owed)


async def _credit(
    request: MinuteRequest, *, actor_id: PydanticObjectId | None, clock: Clock
) -> None:
    user = await User.get(request.user_id)
    if user is not None:
        await wallet.apply_entry(
            user=user,
            kind=LedgerKind.RECHARGE,
            seconds=request.minutes * 60,
            actor_id=actor_id,
            reason=f"approved request for {request.minutes} minutes",
            ref=f"minute-request:{request.id}",
            clock=clock,
        )
    await MinuteRequest.get_pymongo_collection().update_one(
        {"_id": request.id}, {"$set": {"credited": True}}
    )
