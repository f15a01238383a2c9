"""What a process killed between two writes leaves behind is finished by the next one.

These tests write, with the store's own driver, exactly the state a killed process
leaves at each point between writes, then let the timer (any live worker) tick.
"""

from datetime import timedelta

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import queue, timer, wallet
from pumppilot.models import (
    EndReason,
    LedgerEntry,
    LedgerKind,
    Run,
    RunStatus,
    UsageRecord,
    User,
    status_fields,
)
from tests.factories import Tenant


async def ledger_sum(user_id: object) -> int:
    entries = await LedgerEntry.find(LedgerEntry.user_id == user_id).to_list()
    return sum(entry.seconds for entry in entries)


async def balance(user_id: object) -> int:
    user = await User.get(user_id)
    assert user is not None
    return user.balance_seconds


async def test_a_balance_moved_without_its_ledger_entry_gets_it_once(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    ann = tenant.user_id("ann")
    # Killed right after the balance moved: the note of the owed entry is all there is.
    await User.get_pymongo_collection().update_one(
        {"_id": ann},
        {
            "$set": {
                "balance_seconds": 900,
                "pending_entry": {
                    "ref": "recharge:lost-1",
                    "kind": "RECHARGE",
                    "seconds": 300,
                    "balance_after": 900,
                    "actor_id": tenant.id,
                    "reason": "recharge of 5 minutes",
                    "created_at": clock.now(),
                },
            }
        },
    )

    await timer.tick(settings=settings, clock=clock)
    retried = await wallet.recharge(
        actor=tenant.as_admin, user_id=ann, minutes=5, idempotency_key="lost-1", clock=clock
    )

    assert retried.balance_after == 900
    assert await balance(ann) == 900 == await ledger_sum(ann)
    user = await User.get(ann)
    assert user is not None
    assert user.pending_entry is None


async def test_the_next_balance_change_finishes_an_owed_entry_first(
    tenant: Tenant, clock: ManualClock
):
    bob = tenant.user_id("bob")
    await User.get_pymongo_collection().update_one(
        {"_id": bob},
        {
            "$set": {
                "balance_seconds": 540,
                "pending_entry": {
                    "ref": "run:lost",
                    "kind": "DEBIT",
                    "seconds": -60,
                    "balance_after": 540,
                    "actor_id": None,
                    "reason": "run ended",
                    "created_at": clock.now(),
                },
            }
        },
    )

    await wallet.recharge(
        actor=tenant.as_admin, user_id=bob, minutes=1, idempotency_key="after", clock=clock
    )

    assert await balance(bob) == 600 == await ledger_sum(bob)


async def test_a_run_ended_without_its_debit_is_charged_once_by_the_timer(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    ann = tenant.user_id("ann")
    run = await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=5, settings=settings, clock=clock
    )
    clock.advance(75)
    # Killed right after the run was marked DONE: no debit, no usage record.
    await Run.get_pymongo_collection().update_one(
        {"_id": run.id},
        {
            "$set": {
                **status_fields(RunStatus.DONE),
                "accrued_ms": 75_000,
                "running_since": None,
                "ended_at": clock.now(),
                "end_reason": EndReason.STOPPED_BY_USER,
                "charged_seconds": 75,
                "settled": False,
            }
        },
    )
    clock.advance(timedelta(minutes=1).total_seconds())

    await timer.tick(settings=settings, clock=clock)
    await timer.tick(settings=settings, clock=clock)

    debits = await LedgerEntry.find(
        LedgerEntry.user_id == ann, LedgerEntry.kind == LedgerKind.DEBIT
    ).to_list()
    assert [entry.seconds for entry in debits] == [-75]
    assert await balance(ann) == 600 - 75 == await ledger_sum(ann)
    assert await UsageRecord.find(UsageRecord.run_id == run.id).count() == 1
