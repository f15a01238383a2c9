"""Balances move only with a ledger entry, never below zero, never twice for one key."""

import asyncio

import pytest

from pumppilot.clock import ManualClock
from pumppilot.engines import wallet
from pumppilot.errors import BadUserInput, Conflict, Forbidden, InsufficientBalance, NotFound
from pumppilot.models import AuditEntry, LedgerEntry, LedgerKind, User
from tests.factories import Tenant


async def ledger_sum(user_id: object) -> int:
    entries = await LedgerEntry.find(LedgerEntry.user_id == user_id).to_list()
    return sum(entry.seconds for entry in entries)


async def balance(user_id: object) -> int:
    user = await User.get(user_id)
    assert user is not None
    return user.balance_seconds


async def test_retried_recharge_with_one_key_credits_once(tenant: Tenant, clock: ManualClock):
    ann = tenant.user_id("ann")

    entries = await asyncio.gather(
        *(
            wallet.recharge(
                actor=tenant.as_admin,
                user_id=ann,
                minutes=5,
                idempotency_key="receipt-17",
                clock=clock,
            )
            for _ in range(5)
        )
    )

    assert len({entry.id for entry in entries}) == 1
    assert await balance(ann) == 600 + 300
    assert await balance(ann) == await ledger_sum(ann)


async def test_a_key_reused_for_another_recharge_is_a_conflict(tenant: Tenant, clock: ManualClock):
    await wallet.recharge(
        actor=tenant.as_admin,
        user_id=tenant.user_id("ann"),
        minutes=5,
        idempotency_key="r1",
        clock=clock,
    )

    with pytest.raises(Conflict):
        await wallet.recharge(
            actor=tenant.as_admin,
            user_id=tenant.user_id("bob"),
            minutes=50,
            idempotency_key="r1",
            clock=clock,
        )
    with pytest.raises(Conflict):
        await wallet.recharge(
            actor=tenant.as_admin,
            user_id=tenant.user_id("ann"),
            minutes=50,
            idempotency_key="r1",
            clock=clock,
        )
    assert await balance(tenant.user_id("bob")) == 600


async def test_a_recharge_is_audited(tenant: Tenant, clock: ManualClock):
    await wallet.recharge(
        actor=tenant.as_admin,
        user_id=tenant.user_id("bob"),
        minutes=7,
        idempotency_key="a",
        clock=clock,
    )

    entry = await AuditEntry.find_one(
        AuditEntry.action == "RECHARGE", AuditEntry.detail == "7 minutes"
    )
    assert entry is not None
    assert (entry.admin_id, entry.actor_id, entry.target) == (
        tenant.id,
        tenant.id,
        str(tenant.user_id("bob")),
    )


async def test_a_debit_larger_than_the_balance_is_refused(tenant: Tenant, clock: ManualClock):
    user = tenant.users["ann"]

    with pytest.raises(InsufficientBalance):
        await wallet.apply_entry(
            user=user,
            kind=LedgerKind.DEBIT,
            seconds=-601,
            actor_id=None,
            reason="test",
            ref="too-much",
            clock=clock,
        )

    assert await balance(user.id) == 600 == await ledger_sum(user.id)


async def test_recharge_of_another_tenants_user_is_not_found(
    tenant: Tenant, other_tenant: Tenant, clock: ManualClock
):
    with pytest.raises(NotFound):
        await wallet.recharge(
            actor=other_tenant.as_admin,
            user_id=tenant.user_id("ann"),
            minutes=5,
            idempotency_key="k",
            clock=clock,
        )

    assert await balance(tenant.user_id("ann")) == 600


async def test_only_an_admin_recharges(tenant: Tenant, clock: ManualClock):
    from pumppilot.engines.caller import acting_as  # noqa: PLC0415
    from pumppilot.models import Role  # noqa: PLC0415

    as_user = acting_as(tenant.user_id("ann"), Role.USER, "Ann")

    with pytest.raises(Forbidden):
        await wallet.recharge(
            actor=as_user,
            user_id=tenant.user_id("ann"),
            minutes=5,
            idempotency_key="k",
            clock=clock,
        )


@pytest.mark.parametrize(("minutes", "key"), [(0, "k"), (-5, "k"), (5, "  "), (5, "k" * 129)])
async def test_recharge_input_is_checked(tenant: Tenant, clock: ManualClock, minutes, key):
    with pytest.raises(BadUserInput):
        await wallet.recharge(
            actor=tenant.as_admin,
            user_id=tenant.user_id("ann"),
            minutes=minutes,
            idempotency_key=key,
            clock=clock,
        )
