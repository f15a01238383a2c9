"""Load shedding, unready and silent boards pause a run and its charge; recovery resumes it
with the remaining time intact. Driven through the device poll, as a board would."""

import pytest

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import devices, queue, tenant_settings, timer
from pumppilot.engines.devices import DeviceReport, PollAnswer
from pumppilot.models import EndReason, HoldReason, Run, RunStatus, UsageRecord, User
from tests.factories import Tenant


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """Settings where a board that is silent for 30 seconds counts as offline."""
    return settings.model_copy(update={"offline_after_seconds": 30, "lease_seconds": 15})


async def board_says(
    tenant: Tenant, settings: Settings, clock: ManualClock, **signals: bool
) -> PollAnswer:
    return await devices.poll(
        admin_id=str(tenant.id),
        device_id=tenant.device_id,
        key=tenant.device_key,
        report=DeviceReport(**signals),
        settings=settings,
        clock=clock,
    )


async def start(tenant: Tenant, name: str, minutes: int, settings: Settings, clock: ManualClock):
    return await queue.start_run(
        tenant_id=tenant.id,
        user_id=tenant.user_id(name),
        minutes=minutes,
        settings=settings,
        clock=clock,
    )


async def the_run(tenant: Tenant, name: str) -> Run:
    run = await Run.find_one(Run.user_id == tenant.user_id(name))
    assert run is not None
    return run


async def test_load_shedding_pauses_the_charge_and_keeps_the_remaining_time(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 5, settings, clock)
    clock.advance(60)
    shed = await board_says(tenant, settings, clock, load_shedding=True)
    clock.advance(600)
    during = await board_says(tenant, settings, clock, load_shedding=True)
    back = await board_says(tenant, settings, clock, load_shedding=False)
    clock.advance(30)
    stopped = await queue.stop_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), settings=settings, clock=clock
    )

    assert (shed.motor_on, shed.state, shed.hold_reason) == (False, "HOLD", "LOAD_SHEDDING")
    assert (during.motor_on, during.remaining_seconds) == (False, 240)
    assert (back.motor_on, back.state, back.remaining_seconds) == (True, "RUNNING", 240)
    assert stopped.charged_seconds == 90
    usage = await UsageRecord.find_one(UsageRecord.run_id == stopped.id)
    assert usage is not None
    assert (usage.seconds_run, usage.seconds_held) == (90, 600)
    assert [(span.reason, span.ended_at is not None) for span in usage.holds] == [
        (HoldReason.LOAD_SHEDDING, True)
    ]


async def test_an_unready_board_holds_until_it_is_ready(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 5, settings, clock)

    unready = await board_says(tenant, settings, clock, ready=False)
    ready = await board_says(tenant, settings, clock, ready=True)

    assert (unready.state, unready.hold_reason) == ("HOLD", "DEVICE_NOT_READY")
    assert (ready.state, ready.motor_on) == ("RUNNING", True)


async def test_a_silent_board_holds_the_run_from_when_its_lease_ran_out(
    tenant: Tenant, strict: Settings, clock: ManualClock
):
    await board_says(tenant, strict, clock)
    await start(tenant, "ann", 10, strict, clock)
    clock.advance(5)
    await board_says(tenant, strict, clock)
    clock.advance(120)

    await timer.tick(settings=strict, clock=clock)

    run = await the_run(tenant, "ann")
    assert (run.status, run.hold_reason) == (RunStatus.HOLD, HoldReason.DEVICE_OFFLINE)
    # Five seconds until the last poll, then the fifteen-second lease; nothing after.
    assert run.accrued_ms == 20_000

    clock.advance(40)
    answer = await board_says(tenant, strict, clock)
    assert (answer.state, answer.remaining_seconds) == ("RUNNING", 600 - 20)


async def test_a_run_that_becomes_active_while_unsafe_starts_held(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await board_says(tenant, settings, clock, load_shedding=True)

    run = await start(tenant, "ann", 5, settings, clock)

    assert (run.status, run.hold_reason, run.running_since) == (
        RunStatus.HOLD,
        HoldReason.LOAD_SHEDDING,
        None,
    )


async def test_a_manual_hold_pauses_and_lifting_it_resumes(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 5, settings, clock)
    clock.advance(10)

    await tenant_settings.update(
        actor=tenant.as_admin,
        min_start_minutes=None,
        manual_hold=True,
        settings=settings,
        clock=clock,
    )
    held = await the_run(tenant, "ann")
    clock.advance(100)
    await tenant_settings.update(
        actor=tenant.as_admin,
        min_start_minutes=None,
        manual_hold=False,
        settings=settings,
        clock=clock,
    )
    resumed = await the_run(tenant, "ann")

    assert (held.status, held.hold_reason, held.accrued_ms) == (
        RunStatus.HOLD,
        HoldReason.ADMIN_HOLD,
        10_000,
    )
    assert (resumed.status, resumed.held_ms) == (RunStatus.RUNNING, 100_000)


async def test_the_timer_ends_a_run_at_its_deadline_and_starts_the_next(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 2, settings, clock)
    await start(tenant, "bob", 3, settings, clock)
    clock.advance(120.4)

    await timer.tick(settings=settings, clock=clock)

    ann, bob = await the_run(tenant, "ann"), await the_run(tenant, "bob")
    assert (ann.status, ann.end_reason, ann.charged_seconds) == (
        RunStatus.DONE,
        EndReason.DURATION_REACHED,
        120,
    )
    assert (bob.status, bob.started_at) == (RunStatus.RUNNING, clock.now())


async def test_balance_exhausted_exactly_at_a_hold_boundary(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 60, settings, clock)
    clock.advance(600)

    # The board reports load shedding at the very second the balance runs out.
    answer = await board_says(tenant, settings, clock, load_shedding=True)

    run = await the_run(tenant, "ann")
    user = await User.get(tenant.user_id("ann"))
    assert user is not None
    assert answer.motor_on is False
    assert (run.status, run.end_reason, run.charged_seconds) == (
        RunStatus.DONE,
        EndReason.BALANCE_EXHAUSTED,
        600,
    )
    assert user.balance_seconds == 0


async def test_a_held_run_stopped_by_hand_is_charged_only_its_running_time(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    await start(tenant, "ann", 5, settings, clock)
    clock.advance(45)
    await board_says(tenant, settings, clock, ready=False)
    clock.advance(500)

    stopped = await queue.stop_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), settings=settings, clock=clock
    )

    assert (stopped.status, stopped.charged_seconds) == (RunStatus.DONE, 45)
