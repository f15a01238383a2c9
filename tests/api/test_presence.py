"""Boards' polls shared between workers through one presence document per worker."""

from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot import presence as presence_module
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import devices, queue, timer
from pumppilot.live import boards
from pumppilot.models import Device, HoldReason, Run, RunStatus, WorkerPresence
from pumppilot.presence import Presence, presence, use_presence
from tests.factories import Tenant
from tests.helpers import poll
from tests.store_commands import WRITES, counter

SIGNALS = {"loadShedding": "0", "ready": "1", "output": "1"}


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """The service's defaults: poll every 5 s, offline after 20 s without a poll."""
    return settings.model_copy(update={"offline_after_seconds": 20, "poll_seconds": 5})


@pytest.fixture
def worker(
    app: Starlette, strict: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> Presence:
    """This worker's presence table, with the service's offline threshold; the one the
    app installed is put back afterwards."""
    table = Presence(strict.offline_after, clock)
    monkeypatch.setattr(presence_module, "_presence", table)
    return table


async def _boards(tenant: Tenant, count: int, clock: ManualClock) -> dict[str, str]:
    keys = {tenant.device_id: tenant.device_key}
    for number in range(2, count + 1):
        _, keys[f"pump-{number}"] = await devices.register_device(
            actor=tenant.as_admin, device_id=f"pump-{number}", name="pump", clock=clock
        )
    return keys


async def _stored(tenant: Tenant) -> dict[str, Device]:
    found = await Device.find(Device.admin_id == tenant.id).to_list()
    return {device.device_id: device for device in found}


async def test_a_flush_shares_every_boards_poll_in_one_write(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, worker: Presence
):
    keys = await _boards(tenant, 6, clock)
    # The first polls go through the engines, which record each board; the next ones are
    # answered from memory.
    for _ in range(2):
        for device_id, key in keys.items():
            await poll(http, tenant.id, device_id, key, **SIGNALS)
        clock.advance(3)
    before = await _stored(tenant)

    with counter.counted() as commands:
        await app.state.runtime.boards.flush()
    shared = await WorkerPresence.find_one(WorkerPresence.worker == worker.worker)
    after = await _stored(tenant)

    # One replacement of this worker's document, and the clearing of departed workers'.
    assert [name for name in commands if name in WRITES] == ["update", "delete"]
    assert shared is not None
    assert {shared.seen[str(device.id)] for device in after.values()} == {
        clock.now() - timedelta(seconds=3)
    }
    # The boards' own documents were not written: their stored times are seconds behind.
    assert {device.last_seen_at for device in after.values()} == {
        clock.now() - timedelta(seconds=6)
    }
    assert {device.last_seen_at for device in before.values()} == {
        clock.now() - timedelta(seconds=6)
    }


async def test_stored_times_catch_up_at_a_bounded_rate_oldest_first(
    app: Starlette,
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    worker: Presence,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(presence_module, "DURABLE_PER_FLUSH", 2)
    # Polls come faster than real time allows; the allowance is not what this is about.
    monkeypatch.setattr(boards, "BURST", 1000)
    keys = await _boards(tenant, 5, clock)
    for device_id, key in keys.items():
        await poll(http, tenant.id, device_id, key, **SIGNALS)
        # Each board recorded a second after the one before: pump-1 is the oldest.
        clock.advance(1)
    # Every board keeps polling, from memory, until its stored time is far behind.
    for _ in range(presence_module.DURABLE_SECONDS // 15 + 1):
        clock.advance(15)
        for device_id, key in keys.items():
            assert (await poll(http, tenant.id, device_id, key, **SIGNALS)).status_code == 200

    written = [await app.state.runtime.boards.flush() for _ in range(4)]
    stored = await _stored(tenant)

    assert written == [2, 2, 1, 0]
    assert {device.last_seen_at for device in stored.values()} == {clock.now()}


async def test_a_board_heard_by_another_worker_keeps_its_run_going_here(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    strict: Settings,
    worker: Presence,
):
    await queue.start_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), minutes=5, settings=strict, clock=clock
    )
    # Polls at 0 s (recorded in the board's document), 10 s and 19 s (from memory).
    for step in (0, 10, 9):
        clock.advance(step)
        assert (await _poll(http, tenant)).json()["motor"] == "ON"
    await worker.flush()

    # Another worker, whose timer ticks at 30 s: the board's document says 30 s ago.
    elsewhere = Presence(strict.offline_after, clock)
    await elsewhere.refresh()
    use_presence(elsewhere)
    clock.advance(11)
    await timer.tick(settings=strict, clock=clock)
    kept = await Run.find_one(Run.admin_id == tenant.id)

    # Nobody hears the board after 19 s: by 40 s every worker holds the run.
    clock.advance(10)
    await timer.tick(settings=strict, clock=clock)
    held = await Run.find_one(Run.admin_id == tenant.id)

    assert kept is not None
    assert kept.status is RunStatus.RUNNING
    assert held is not None
    assert held.status is RunStatus.HOLD
    assert held.hold_reason is HoldReason.DEVICE_OFFLINE


async def test_a_board_that_falls_silent_is_marked_offline_by_the_worker_that_heard_it(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, worker: Presence
):
    await _poll(http, tenant)
    clock.advance(10)
    await _poll(http, tenant)
    last_poll = clock.now()

    clock.advance(15)
    await app.state.runtime.boards.flush()
    still = (await _stored(tenant))[tenant.device_id]
    clock.advance(6)
    await app.state.runtime.boards.flush()
    silent = (await _stored(tenant))[tenant.device_id]

    assert not still.marked_offline
    assert silent.marked_offline
    # The stored time catches up with the last poll in the same write.
    assert silent.last_seen_at == last_poll
    assert not worker.online(silent, clock.now(), timedelta(seconds=20))


async def test_a_restarted_worker_knows_the_polls_its_predecessor_shared(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, strict: Settings, worker: Presence
):
    await _poll(http, tenant)
    clock.advance(10)
    await _poll(http, tenant)
    await worker.flush()

    restarted = Presence(strict.offline_after, clock)
    await restarted.refresh()
    board = (await _stored(tenant))[tenant.device_id]

    assert board.last_seen_at == clock.now() - timedelta(seconds=10)
    assert restarted.last_seen(str(board.id), board.last_seen_at) == clock.now()
    assert presence() is worker


async def _poll(http: httpx.AsyncClient, tenant: Tenant) -> httpx.Response:
    return await poll(http, tenant.id, tenant.device_id, tenant.device_key, **SIGNALS)
