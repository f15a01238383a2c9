"""Balances move only with a ledger entry, never below zero, never twice for one key."""

import asyncio

import pytest

from pumppilot.clock import ManualClock
from pumppilot.engines import wallet
from pumppilot.errors import BadUserInput, InsufficientBalance, NotFound
from pumppilot.models import LedgerEntry, LedgerKind, User
from tests.factories import Tenant


async def ledger_sum(user_id: object) -> int:
    return sum(
        entry.seconds for entry in await LedgerEntry.find(LedgerEntry.user_id == user_id).to_list()
    )


async def balance(user_id: object) -> int:
    user = await User.get(user_id)
    assert user is not None
    return user.balance_seconds


async def test_retried_recharge_with_one_key_credits_once(tenant: Tenant, clock: ManualClock):
    ann = tenant.user_id("ann")

    entries = await asyncio.gather(
        *(
            wallet.recharge(
                tenant_id=tenant.id,
                user_id=ann,
                minutes=5,
                actor_id=tenant.id,
                idempotency_key="receipt-17",
                clock=clock,
            )
            for _ in range(5)
        )
    )

    assert len({entry.id for entry in entries}) == 1
    assert await balance(ann) == 600 + 300
    assert await balance(ann) == await ledger_sum(ann)


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
            tenant_id=other_tenant.id,
            user_id=tenant.user_id("ann"),
            minutes=5,
            actor_id=other_tenant.id,
            idempotency_key="k",
            clock=clock,
        )

    assert await balance(tenant.user_id("ann")) == 600


@pytest.mark.parametrize(("minutes", "key"), [(0, "k"), (-5, "k"), (5, "  ")])
async def test_recharge_input_is_checked(tenant: Tenant, clock: ManualClock, minutes, key):
    with pytest.raises(BadUserInput):
        await wallet.recharge(
            tenant_id=tenant.id,
            user_id=tenant.user_id("ann"),
            minutes=minutes,
            actor_id=tenant.id,
            idempotency_key=key,
            clock=clock,
        )
