"""Property: whatever the balance, the minutes asked for and the pauses between looks,
a run is charged exactly the whole seconds it ran, capped by its limit, and the balance
stays equal to the sum of the ledger."""

import itertools

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import queue
from pumppilot.models import LedgerEntry, Run, RunStatus, User
from tests.factories import Tenant, make_user

_names = itertools.count()


@hypothesis.settings(
    max_examples=15,
    deadline=None,
    # Each example makes its own user, so sharing the tenant between examples is safe.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    balance_minutes=st.integers(min_value=1, max_value=30),
    requested_minutes=st.integers(min_value=1, max_value=30),
    pauses=st.lists(st.floats(min_value=0, max_value=400), min_size=1, max_size=6),
    stop_by_hand=st.booleans(),
)
async def test_charge_is_the_seconds_run_within_the_limit(
    tenant: Tenant,
    clock: ManualClock,
    balance_minutes: int,
    requested_minutes: int,
    pauses: list[float],
    stop_by_hand: bool,
    settings: Settings,
):
    user = await make_user(tenant, f"prop{next(_names)}", balance_minutes, clock)
    assert user.id is not None
    await _clear_queue(tenant, clock, settings)

    run = await queue.start_run(
        tenant_id=tenant.id,
        user_id=user.id,
        minutes=requested_minutes,
        settings=settings,
        clock=clock,
    )
    started = clock.now()
    for pause in pauses:
        clock.advance(pause)
        await queue.settle_due(tenant.id, settings=settings, clock=clock)
    if not stop_by_hand:
        clock.advance(31 * 60)
    if await queue.open_run_of(user.id) is not None:
        await queue.stop_run(tenant_id=tenant.id, user_id=user.id, settings=settings, clock=clock)

    ended = await Run.get(run.id)
    fresh = await User.get(user.id)
    assert ended is not None
    assert fresh is not None
    limit = min(balance_minutes, requested_minutes) * 60
    ran = int((clock.now() - started).total_seconds())
    ledger = await LedgerEntry.find(LedgerEntry.user_id == user.id).to_list()

    assert ended.status is RunStatus.DONE
    assert ended.charged_seconds == min(ran, limit)
    assert fresh.balance_seconds == balance_minutes * 60 - min(ran, limit)
    assert fresh.balance_seconds == sum(entry.seconds for entry in ledger)


async def _clear_queue(tenant: Tenant, clock: ManualClock, settings: Settings) -> None:
    active = await queue.active_run(tenant.id)
    if active is not None:
        await queue.end_run(
            active, reason=queue.EndReason.STOPPED_BY_ADMIN, settings=settings, clock=clock
        )
