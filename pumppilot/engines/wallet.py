"""Balances in whole seconds, changed only together with a ledger entry."""

import logging

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pumppilot.clock import Clock
from pumppilot.errors import BadUserInput, InsufficientBalance, NotFound
from pumppilot.models import LedgerEntry, LedgerKind, User

log = logging.getLogger(__name__)

MAX_RECHARGE_MINUTES = 100_000


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
    follows with the balance the move produced. A process killed between the two leaves
    the balance ahead of the ledger; entries are keyed by `ref` so the repair is a replay.
    """
    existing = await LedgerEntry.find_one(
        LedgerEntry.admin_id == user.admin_id, LedgerEntry.ref == ref
    )
    if existing is not None:
        return existing

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
        return winner

    user.balance_seconds = entry.balance_after
    log.info("ledger %s of %+d s for user %s (%s)", kind.value, seconds, user.id, reason)
    return entry


async def recharge(
    *,
    tenant_id: PydanticObjectId,
    user_id: PydanticObjectId,
    minutes: int,
    actor_id: PydanticObjectId | None,
    idempotency_key: str,
    clock: Clock,
) -> LedgerEntry:
    if not 0 < minutes <= MAX_RECHARGE_MINUTES:
        raise BadUserInput(f"a recharge is 1 to {MAX_RECHARGE_MINUTES} minutes")
    if not idempotency_key.strip():
        raise BadUserInput("a recharge needs an idempotency key")

    user = await User.get(user_id)
    if user is None or user.admin_id != tenant_id:
        raise NotFound("no such user")

    return await apply_entry(
        user=user,
        kind=LedgerKind.RECHARGE,
        seconds=minutes * 60,
        actor_id=actor_id,
        reason=f"recharge of {minutes} minutes",
        ref=f"recharge:{idempotency_key.strip()}",
        clock=clock,
    )


async def balance_of(user_id: PydanticObjectId) -> int:
    user = await User.get(user_id)
    if user is None:
        raise NotFound("no such user")
    return user.balance_seconds
