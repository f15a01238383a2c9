"""Balances in whole seconds, changed only together with a ledger entry."""

import logging
from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.engines import audit
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.engines.runs import chargeable_seconds
from pumppilot.errors import BadUserInput, Conflict, InsufficientBalance, NotFound
from pumppilot.models import LedgerEntry, LedgerKind, Role, Run, User

log = logging.getLogger(__name__)

MAX_RECHARGE_MINUTES = 100_000
MAX_KEY_LENGTH = 128


async def apply_entry(
    *,
    user: User,
    kind: LedgerKind,
    seconds: int,
    actor_id: PydanticObjectId | None,
    reason: str,
    ref: str,
    clock: Clock,
) -> LedgerEntry:
    """Change a balance by `seconds` and record why; a repeated `ref` changes nothing.

    The balance moves first, conditionally, so it can never go below zero; the entry
    follows with the balance the move produced. A process killed between the two writes
    leaves the balance and the ledger apart; nothing repairs that yet.
    """
    existing = await LedgerEntry.find_one(
        LedgerEntry.admin_id == user.admin_id, LedgerEntry.ref == ref
    )
    if existing is not None:
        return _same_or_conflict(existing, user_id=user.id, seconds=seconds)

    floor = max(0, -seconds)
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": user.id, "balance_seconds": {"$gte": floor}},
        {"$inc": {"balance_seconds": seconds}},
        return_document=ReturnDocument.AFTER,
        projection={"balance_seconds": 1},
    )
    if updated is None:
        raise InsufficientBalance(
            f"balance is {user.balance_seconds // 60} minutes; this needs {floor // 60}"
        )

    assert user.id is not None
    entry = LedgerEntry(
        admin_id=user.admin_id,
        user_id=user.id,
        kind=kind,
        seconds=seconds,
        balance_after=int(updated["balance_seconds"]),
        actor_id=actor_id,
        reason=reason,
        ref=ref,
        created_at=clock.now(),
    )
    try:
        await entry.insert()
    except DuplicateKeyError:
        # Another process applied the same ref at the same moment: undo ours, keep theirs.
        await User.get_pymongo_collection().update_one(
            {"_id": user.id}, {"$inc": {"balance_seconds": -seconds}}
        )
        winner = await LedgerEntry.find_one(
            LedgerEntry.admin_id == user.admin_id, LedgerEntry.ref == ref
        )
        assert winner is not None
        return _same_or_conflict(winner, user_id=user.id, seconds=seconds)

    user.balance_seconds = entry.balance_after
    await events.publish("wallet", user.admin_id, user.id)
    log.info("ledger %s of %+d s for user %s (%s)", kind.value, seconds, user.id, reason)
    return entry


async def recharge(
    *,
    actor: Caller,
    user_id: PydanticObjectId,
    minutes: int,
    idempotency_key: str,
    clock: Clock,
) -> LedgerEntry:
    """Add prepaid minutes to a user of the admin's own tenant; a retried key adds nothing."""
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    key = idempotency_key.strip()
    if not 0 < minutes <= MAX_RECHARGE_MINUTES:
        raise BadUserInput(f"a recharge is 1 to {MAX_RECHARGE_MINUTES} minutes")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadUserInput(f"a recharge needs an idempotency key of 1 to {MAX_KEY_LENGTH} chars")

    user = await User.get(user_id)
    if user is None or user.admin_id != tenant_id:
        raise NotFound("no such user")

    entry = await apply_entry(
        user=user,
        kind=LedgerKind.RECHARGE,
        seconds=minutes * 60,
        actor_id=actor.account_id,
        reason=f"recharge of {minutes} minutes",
        ref=f"recharge:{key}",
        clock=clock,
    )
    await audit.record(
        AuditAction.RECHARGE,
        clock=clock,
        actor=actor,
        tenant_id=tenant_id,
        target=str(user_id),
        detail=f"{minutes} minutes",
    )
    return entry


@dataclass(frozen=True)
class BalanceView:
    # What the balance will be if the active run stopped now; the stored one otherwise.
    balance_seconds: int
    # Seconds the active run has used so far, not yet booked to the ledger.
    pending_seconds: int


async def balance_of(user_id: PydanticObjectId, *, clock: Clock) -> BalanceView:
    user = await User.get(user_id)
    if user is None:
        raise NotFound("no such user")

    run = await Run.find_one(Run.user_id == user_id, Run.active == True)  # noqa: E712
    pending = min(chargeable_seconds(run, clock.now()), user.balance_seconds) if run else 0
    return BalanceView(balance_seconds=user.balance_seconds - pending, pending_seconds=pending)


def _same_or_conflict(
    entry: LedgerEntry, *, user_id: PydanticObjectId | None, seconds: int
) -> LedgerEntry:
    """A repeated `ref` is a retry only if it asks for the very same change."""
    if entry.user_id != user_id or entry.seconds != seconds:
        raise Conflict("that idempotency key was already used for a different change")
    return entry
