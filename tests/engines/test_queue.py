"""The queue engine over the real embedded store: order, charges and the one-active rule."""

import asyncio

import pytest
from starlette.applications import Starlette

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import queue
from pumppilot.errors import BadUserInput, InsufficientBalance, NotFound
from pumppilot.models import EndReason, LedgerEntry, Run, RunStatus, UsageRecord, User
from tests.factories import Tenant, make_tenant, make_user


async def balance(user_id: object) -> int:
    user = await User.get(user_id)
    assert user is not None
    return user.balance_seconds


async def test_first_start_in_an_empty_queue_runs_at_once(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    run = await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id("ann"),
        minutes=5,
        settings=settings,
        clock=clock,
    )

    assert run.status is RunStatus.RUNNING
    assert run.limit_seconds == 300
    assert await queue.waiting_position(run) is None


async def test_later_starts_wait_in_request_order(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id("ann"),
        minutes=5,
        settings=settings,
        clock=clock,
    )
    extra = await make_user(tenant, "dan", 5, clock)
    assert extra.id is not None

    bob = await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id("bob"),
        minutes=5,
        settings=settings,
        clock=clock,
    )
    dan = await queue.start_run(
        tenant_id=tenant.id, user_id=extra.id, minutes=5, settings=settings, clock=clock
    )

    assert (bob.status, dan.status) == (RunStatus.WAITING, RunStatus.WAITING)
    assert await queue.waiting_position(bob) == 1
    assert await queue.waiting_position(dan) == 2


async def test_second_start_by_same_user_returns_existing_run(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    first = await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id("ann"),
        minutes=5,
        settings=settings,
        clock=clock,
    )
    second = await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id("ann"),
        minutes=9,
        settings=settings,
        clock=clock,
    )

    assert second.id == first.id
    assert await Run.find(Run.user_id == tenant.user_id("ann")).count() == 1


async def test_stop_charges_exactly_the_seconds_run(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann = tenant.user_id("ann")
    await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=5, settings=settings, clock=clock
    )
    clock.advance(93.6)

    run = await queue.stop_run(tenant_id=tenant.id, user_id=ann, settings=settings, clock=clock)

    assert run.status is RunStatus.DONE
    assert run.end_reason is EndReason.STOPPED_BY_USER
    assert run.charged_seconds == 93
    assert await balance(ann) == 600 - 93
    debits = await LedgerEntry.find(LedgerEntry.user_id == ann, LedgerEntry.seconds < 0).to_list()
    assert [(entry.seconds, entry.balance_after) for entry in debits] == [(-93, 507)]
    usage = await UsageRecord.find_one(UsageRecord.run_id == run.id)
    assert usage is not None
    assert (usage.seconds_run, usage.charged_seconds) == (93, 93)


async def test_stopping_the_active_run_starts_the_next(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann, bob = tenant.user_id("ann"), tenant.user_id("bob")
    await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=5, settings=settings, clock=clock
    )
    waiting = await queue.start_run(
        tenant_id=tenant.id, user_id=bob, minutes=5, settings=settings, clock=clock
    )

    clock.advance(30)
    await queue.stop_run(tenant_id=tenant.id, user_id=ann, settings=settings, clock=clock)

    active = await queue.active_run(tenant.id)
    assert active is not None
    assert (active.id, active.status, active.started_at) == (
        waiting.id,
        RunStatus.RUNNING,
        clock.now(),
    )


async def test_leaving_the_queue_costs_nothing(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann, bob = tenant.user_id("ann"), tenant.user_id("bob")
    await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=5, settings=settings, clock=clock
    )
    await queue.start_run(
        tenant_id=tenant.id, user_id=bob, minutes=5, settings=settings, clock=clock
    )
    clock.advance(60)

    left = await queue.stop_run(tenant_id=tenant.id, user_id=bob, settings=settings, clock=clock)

    assert (left.status, left.end_reason, left.charged_seconds) == (
        RunStatus.CANCELLED,
        EndReason.LEFT_QUEUE,
        0,
    )
    assert await balance(bob) == 600


async def test_run_ends_by_itself_when_the_balance_is_used_up(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann = tenant.user_id("ann")
    await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=60, settings=settings, clock=clock
    )
    clock.advance(600 + 45)

    assert await queue.settle_due(tenant.id, settings=settings, clock=clock) is None

    run = await Run.find_one(Run.user_id == ann)
    assert run is not None
    assert (run.status, run.end_reason, run.charged_seconds) == (
        RunStatus.DONE,
        EndReason.BALANCE_EXHAUSTED,
        600,
    )
    assert await balance(ann) == 0


async def test_run_ends_when_the_requested_minutes_are_reached(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann = tenant.user_id("ann")
    await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=2, settings=settings, clock=clock
    )
    clock.advance(119)
    assert await queue.settle_due(tenant.id, settings=settings, clock=clock) is not None

    clock.advance(1)
    await queue.settle_due(tenant.id, settings=settings, clock=clock)

    run = await Run.find_one(Run.user_id == ann)
    assert run is not None
    assert (run.end_reason, run.charged_seconds) == (EndReason.DURATION_REACHED, 120)


async def test_start_without_a_minute_of_balance_is_refused(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    with pytest.raises(InsufficientBalance):
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id("cat"),
            minutes=5,
            settings=settings,
            clock=clock,
        )

    assert await Run.find_all().count() == 0


@pytest.mark.parametrize("minutes", [0, -3, 24 * 60 + 1])
async def test_start_with_minutes_out_of_range_is_refused(
    tenant: Tenant, clock: ManualClock, minutes: int, settings: Settings
):
    with pytest.raises(BadUserInput):
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id("ann"),
            minutes=minutes,
            settings=settings,
            clock=clock,
        )


async def test_stop_without_a_run_is_not_found(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    with pytest.raises(NotFound):
        await queue.stop_run(
            tenant_id=tenant.id, user_id=tenant.user_id("ann"), settings=settings, clock=clock
        )


async def test_a_user_cannot_start_in_another_tenant(
    tenant: Tenant, other_tenant: Tenant, clock: ManualClock, settings: Settings
):
    with pytest.raises(NotFound):
        await queue.start_run(
            tenant_id=other_tenant.id,
            user_id=tenant.user_id("ann"),
            minutes=5,
            settings=settings,
            clock=clock,
        )

    assert await queue.active_run(other_tenant.id) is None


async def test_racing_starts_leave_one_active_run_and_gapless_positions(
    app: Starlette, clock: ManualClock, settings: Settings
):
    names = {f"u{number:02}": 5 for number in range(20)}
    crowd = await make_tenant("crowd", clock, balances=names)

    runs = await asyncio.gather(
        *(
            queue.start_run(
                tenant_id=crowd.id,
                user_id=crowd.user_id(name),
                minutes=1,
                settings=settings,
                clock=clock,
            )
            for name in names
        )
    )

    assert sum(run.status is RunStatus.RUNNING for run in runs) == 1
    positions = [await queue.waiting_position(run) for run in runs]
    assert sorted(p for p in positions if p is not None) == list(range(1, 20))


async def test_two_processes_ending_one_run_charge_it_once(
    tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann = tenant.user_id("ann")
    run = await queue.start_run(
        tenant_id=tenant.id, user_id=ann, minutes=5, settings=settings, clock=clock
    )
    clock.advance(40)

    outcomes = await asyncio.gather(
        queue.end_run(run, reason=EndReason.STOPPED_BY_USER, settings=settings, clock=clock),
        queue.end_run(run, reason=EndReason.STOPPED_BY_USER, settings=settings, clock=clock),
    )

    assert sorted(outcomes) == [False, True]
    assert await balance(ann) == 600 - 40
