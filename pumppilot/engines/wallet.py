"""Balances in whole seconds, changed only together with a ledger entry."""

import logging
from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.engines import audit
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.engines.runs import chargeable_seconds
from pumppilot.errors import BadUserInput, Conflict, InsufficientBalance, NotFound
from pumppilot.models import LedgerEntry, LedgerKind, PendingEntry, Role, Run, User

log = logging.getLogger(__name__)

MAX_RECHARGE_MINUTES = 100_000
MAX_KEY_LENGTH = 128
MAX_REASON_LENGTH = 200
CAS_ATTEMPTS = 20


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

    The balance moves with a compare-and-set on its current value, together with a note
    of the entry it owes the ledger; the entry is written next and the note cleared. So
    the balance never goes below zero, never moves twice for one `ref`, and a process
    killed in between leaves a note that the next writer finishes.
    """
    assert user.id is not None
    draft = PendingEntry(
        ref=ref,
        kind=kind.value,
        seconds=seconds,
        balance_after=0,
        actor_id=actor_id,
        reason=reason,
        created_at=clock.now(),
    )
    for _ in range(CAS_ATTEMPTS):
        existing = await _entry(user.admin_id, ref)
        if existing is not None:
            return _same_or_conflict(existing, user_id=user.id, seconds=seconds)

        fresh = await User.get(user.id)
        if fresh is None:
            raise NotFound("no such user")
        if fresh.pending_entry is not None:
            await _complete(fresh, fresh.pending_entry)
            continue

        entry = await _try_move(fresh, draft)
        if entry is not None:
            user.balance_seconds = entry.balance_after
            await events.publish("wallet", user.admin_id, user.id)
            log.info("ledger %s of %+d s for user %s (%s)", kind.value, seconds, user.id, reason)
            return entry

    raise Conflict("the balance kept changing; try again")


async def _try_move(user: User, draft: PendingEntry) -> LedgerEntry | None:
    """Move the balance if it still holds what was read; None if it changed meanwhile."""
    after = user.balance_seconds + draft.seconds
    if after < 0:
        raise InsufficientBalance(
            f"balance is {user.balance_seconds // 60} minutes; this needs {-draft.seconds // 60}"
        )

    pending = draft.model_copy(update={"balance_after": after})
    moved = await User.get_pymongo_collection().update_one(
        {"_id": user.id, "balance_seconds": user.balance_seconds, "pending_entry": None},
        {"$set": {"balance_seconds": after, "pending_entry": pending.model_dump()}},
    )
    if not moved.modified_count:
        return None
    return await _complete(user, pending)


async def _complete(user: User, pending: PendingEntry) -> LedgerEntry:
    """Write the ledger entry a balance change owes, then clear the note of it."""
    assert user.id is not None
    entry = LedgerEntry(
        admin_id=user.admin_id,
        user_id=user.id,
        kind=LedgerKind(pending.kind),
        seconds=pending.seconds,
        balance_after=pending.balance_after,
        actor_id=pending.actor_id,
        reason=pending.reason,
        ref=pending.ref,
        created_at=pending.created_at,
    )
    try:
        await entry.insert()
    except DuplicateKeyError:
        written = await _entry(user.admin_id, pending.ref)
        assert written is not None
        entry = written

    await User.get_pymongo_collection().update_one(
        {"_id": user.id, "pending_entry.ref": pending.ref}, {"$set": {"pending_entry": None}}
    )
    return entry


async def finish_pending() -> int:
    """Write the ledger entries that killed processes left owing; returns how many."""
    owing = await User.find({"pending_entry.ref": {"$exists": True}}).to_list()
    for user in owing:
        if user.pending_entry is not None:
            await _complete(user, user.pending_entry)
    return len(owing)


async def _entry(tenant_id: PydanticObjectId, ref: str) -> LedgerEntry | None:
    return await LedgerEntry.find_one(LedgerEntry.admin_id == tenant_id, LedgerEntry.ref == ref)


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

    run = await Run.find_one({"user_id": user_id, "active": True})
    pending = min(chargeable_seconds(run, clock.now()), user.balance_seconds) if run else 0
    return BalanceView(balance_seconds=user.balance_seconds - pending, pending_seconds=pending)


def _same_or_conflict(
    entry: LedgerEntry, *, user_id: PydanticObjectId | None, seconds: int
) -> LedgerEntry:
    """A repeated `ref` is a retry only if it asks for the very same change."""
    if entry.user_id != user_id or entry.seconds != seconds:
        raise Conflict("that idempotency key was already used for a different change")
    return entry


async def adjust(
    *,
    actor: Caller,
    user_id: PydanticObjectId,
    seconds: int,
    reason: str,
    idempotency_key: str,
    clock: Clock,
) -> LedgerEntry:
    """An admin's correction of a balance, up or down, with the reason on the record."""
    actor.require(Role.ADMIN)
    key = idempotency_key.strip()
    if seconds == 0 or abs(seconds) > MAX_RECHARGE_MINUTES * 60:
        raise BadUserInput(f"an adjustment is 1 to {MAX_RECHARGE_MINUTES * 60} seconds either way")
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput(f"an adjustment needs a reason of at most {MAX_REASON_LENGTH} chars")
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadUserInput(f"an adjustment needs an idempotency key of 1 to {MAX_KEY_LENGTH} chars")

    user = await _own_user(actor, user_id)
    entry = await apply_entry(
        user=user,
        kind=LedgerKind.ADJUSTMENT,
        seconds=seconds,
        actor_id=actor.account_id,
        reason=reason.strip(),
        ref=f"adjustment:{key}",
        clock=clock,
    )
    await _audit_change(actor, user_id, f"adjusted by {seconds:+d} s: {reason.strip()}", clock)
    return entry


async def refund_run(
    *, actor: Caller, run_id: PydanticObjectId, seconds: int, reason: str, clock: Clock
) -> LedgerEntry:
    """Give back some or all of what a finished run was charged; once per run."""
    actor.require(Role.ADMIN)
    run = await Run.get(run_id)
    if run is None or run.admin_id != actor.own_tenant():
        raise NotFound("no such run")
    charged = run.charged_seconds or 0
    if not 0 < seconds <= charged:
        raise BadUserInput(f"a refund for this run is 1 to {charged} seconds")
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise BadUserInput(f"a refund needs a reason of at most {MAX_REASON_LENGTH} chars")

    user = await _own_user(actor, run.user_id)
    entry = await apply_entry(
        user=user,
        kind=LedgerKind.REFUND,
        seconds=seconds,
        actor_id=actor.account_id,
        reason=reason.strip(),
        ref=f"refund:{run.id}",
        clock=clock,
    )
    await _audit_change(actor, run.user_id, f"refunded {seconds} s of run {run.id}", clock)
    return entry


async def _own_user(actor: Caller, user_id: PydanticObjectId) -> User:
    user = await User.get(user_id)
    if user is None or user.admin_id != actor.own_tenant():
        raise NotFound("no such user")
    return user


async def _audit_change(
    actor: Caller, user_id: PydanticObjectId, detail: str, clock: Clock
) -> None:
    await audit.record(
        AuditAction.BALANCE_CORRECTED,
        clock=clock,
        actor=actor,
        tenant_id=actor.own_tenant(),
        target=str(user_id),
        detail=detail[:200],
    )
