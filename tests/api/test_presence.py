"""Boards' polls shared between workers through one presence document per worker."""

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot import presence as presence_module
from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import devices, queue, timer
from pumppilot.engines.devices import DeviceReport
from pumppilot.live import boards
from pumppilot.models import Device, HoldReason, Run, RunStatus, WorkerPresence
from pumppilot.presence import Presence, use_presence
from tests.factories import Tenant
from tests.helpers import poll
from tests.store_commands import WRITES, counter

SIGNALS = {"loadShedding": "0", "ready": "1", "output": "1"}


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """The service's defaults: poll every 5 s, offline after 20 s without a poll."""
    return settings.model_copy(update={"offline_after_seconds": 20, "poll_seconds": 5})


@pytest.fixture
def worker(app: Starlette, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Presence:
    """This worker's presence table; the one the app installed is put back afterwards."""
    table = Presence(clock)
    monkeypatch.setattr(presence_module, "_presence", table)
    return table


@pytest.fixture
def flusher(app: Starlette, strict: Settings, clock: ManualClock) -> boards.Boards:
    """This worker's polls, flushed with the service's offline threshold."""
    return boards.Boards(app.state.runtime.watches, strict, clock)


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


async def _poll(http: httpx.AsyncClient, tenant: Tenant, **report: str) -> httpx.Response:
    return await poll(http, tenant.id, tenant.device_id, tenant.device_key, **(SIGNALS | report))


async def test_a_flush_shares_every_boards_poll_in_one_write(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    worker: Presence,
    flusher: boards.Boards,
    strict: Settings,
):
    keys = await _boards(tenant, 6, clock)
    # The first polls go through the engines, which record each board; the next ones are
    # answered from memory.
    for _ in range(2):
        for device_id, key in keys.items():
            await poll(http, tenant.id, device_id, key, **SIGNALS)
        clock.advance(3)

    with counter.counted() as commands:
        await flusher.flush()
    shared = await WorkerPresence.find_one(WorkerPresence.worker == worker.worker)
    stored = await _stored(tenant)

    assert [name for name in commands if name in WRITES] == ["update"]
    assert shared is not None
    assert {shared.seen[str(device.id)] for device in stored.values()} == {
        clock.now() - timedelta(seconds=3)
    }
    # The boards' own documents were not written: their stored times are a poll behind.
    assert {device.last_seen_at for device in stored.values()} == {
        clock.now() - timedelta(seconds=6)
    }


async def test_stored_times_catch_up_at_a_bounded_rate_furthest_behind_first(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    worker: Presence,
    flusher: boards.Boards,
    strict: Settings,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(presence_module, "DURABLE_PER_FLUSH", 2)
    # Polls come faster than real time allows; the allowance is not what this is about.
    monkeypatch.setattr(boards, "BURST", 1000)
    keys = await _boards(tenant, 5, clock)
    for device_id, key in keys.items():
        await poll(http, tenant.id, device_id, key, **SIGNALS)
        # Each board recorded a second after the one before: pump-1 is furthest behind.
        clock.advance(1)
    # Every board keeps polling, from memory, until its stored time is far behind.
    for _ in range(presence_module.DURABLE_SECONDS // 15 + 1):
        clock.advance(15)
        for device_id, key in keys.items():
            assert (await poll(http, tenant.id, device_id, key, **SIGNALS)).status_code == 200

    written = [await flusher.flush()]
    caught_up = {
        name for name, board in (await _stored(tenant)).items() if board.last_seen_at == clock.now()
    }
    written += [await flusher.flush() for _ in range(3)]
    stored = await _stored(tenant)

    assert written == [2, 2, 1, 0]
    assert caught_up == {tenant.device_id, "pump-2"}
    assert {device.last_seen_at for device in stored.values()} == {clock.now()}


async def test_a_board_heard_by_another_worker_keeps_its_run_going_here(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    strict: Settings,
    worker: Presence,
    flusher: boards.Boards,
):
    await queue.start_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), minutes=5, settings=strict, clock=clock
    )
    started = clock.now()
    # Polls at 0 s (recorded in the board's document), 10 s and 19 s (from memory).
    for step in (0, 10, 9):
        clock.advance(step)
        assert (await _poll(http, tenant)).json()["motor"] == "ON"
    await flusher.flush()

    # Another worker, whose timer ticks at 30 s: the board's document says 30 s ago.
    elsewhere = Presence(clock)
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
    # Charged until the lease of the last poll that any worker heard ran out.
    assert held.held_since == started + timedelta(seconds=19 + strict.lease_seconds)


async def test_a_board_polling_one_worker_is_never_taken_for_silent_by_another(
    app: Starlette,
    tenant: Tenant,
    clock: ManualClock,
    strict: Settings,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(boards, "BURST", 1000)
    answering, ticking = Presence(clock), Presence(clock)
    memory = boards.Boards(app.state.runtime.watches, strict, clock)
    elsewhere = boards.Boards(app.state.runtime.watches, strict, clock)
    report = DeviceReport(load_shedding=False, ready=True, output_on=True)
    await queue.start_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), minutes=5, settings=strict, clock=clock
    )

    async def on(table: Presence, work: Callable[[], Awaitable[object]]) -> object:
        monkeypatch.setattr(presence_module, "_presence", table)
        return await work()

    # Half-second steps. The board polls the answering worker a little late, every 5.5 s;
    # each worker flushes every 5 s, out of step; the other worker's timer ticks at every
    # step.
    next_poll = 0.0
    for step in range(360):
        now = step / 2
        if now >= next_poll:
            answer = await on(
                answering,
                lambda: memory.poll(
                    admin_id=str(tenant.id),
                    device_id=tenant.device_id,
                    key=tenant.device_key,
                    report=report,
                ),
            )
            assert isinstance(answer, devices.PollAnswer)
            assert answer.motor_on, f"the motor was stopped at {now} s"
            next_poll += 5.5
        if step % 10 == 9:
            await on(answering, memory.flush)
        if step % 10 == 4:
            await on(ticking, elsewhere.flush)
        await on(ticking, lambda: timer.tick(settings=strict, clock=clock))
        clock.advance(0.5)

    run = await Run.find_one(Run.admin_id == tenant.id)
    stored = (await _stored(tenant))[tenant.device_id]
    assert run is not None
    assert run.status is RunStatus.RUNNING
    assert run.holds == []
    assert not stored.marked_offline


async def test_a_board_that_falls_silent_is_marked_offline_by_the_worker_that_heard_it(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    worker: Presence,
    flusher: boards.Boards,
    strict: Settings,
):
    await _poll(http, tenant)
    clock.advance(10)
    await _poll(http, tenant)
    last_poll = clock.now()

    clock.advance(15)
    await flusher.flush()
    still = (await _stored(tenant))[tenant.device_id]
    clock.advance(6)
    await flusher.flush()
    silent = (await _stored(tenant))[tenant.device_id]

    assert not still.marked_offline
    assert silent.marked_offline
    # The stored time catches up with the last poll in the same write.
    assert silent.last_seen_at == last_poll
    assert not worker.online(silent, clock.now(), strict.offline_after)


async def test_a_restarted_worker_knows_the_polls_its_predecessor_shared(
    http: httpx.AsyncClient,
    tenant: Tenant,
    clock: ManualClock,
    settings: Settings,
    strict: Settings,
    worker: Presence,
    flusher: boards.Boards,
):
    await _poll(http, tenant)
    clock.advance(10)
    await _poll(http, tenant)
    await flusher.flush()

    restarted = create_app(settings, clock=clock)
    async with restarted.router.lifespan_context(restarted):
        table = restarted.state.runtime.presence
        board = (await _stored(tenant))[tenant.device_id]
        known = table.last_seen(str(board.id), board.last_seen_at)

    assert board.last_seen_at == clock.now() - timedelta(seconds=10)
    assert known == clock.now()


async def test_a_board_keeps_one_allowance_however_it_names_its_tenant(
    http: httpx.AsyncClient, tenant: Tenant
):
    # An ObjectId reads the same in upper case; the board is the same board.
    shouted = str(tenant.id).upper()
    answers = [await _poll(http, tenant) for _ in range(boards.BURST - 1)]
    answers.append(await poll(http, shouted, tenant.device_id, tenant.device_key, **SIGNALS))
    answers.append(await poll(http, shouted, tenant.device_id, tenant.device_key, **SIGNALS))

    assert [answer.status_code for answer in answers] == [200] * boards.BURST + [429]


async def test_a_board_checked_again_after_an_event_keeps_what_is_left_of_its_allowance(
    http: httpx.AsyncClient, tenant: Tenant
):
    answers = [await _poll(http, tenant) for _ in range(boards.BURST - 1)]
    # A changed signal goes through the engines, whose event makes the next poll check
    # the board again.
    answers.append(await _poll(http, tenant, loadShedding="1"))
    answers.append(await _poll(http, tenant, loadShedding="1"))

    assert [answer.status_code for answer in answers] == [200] * boards.BURST + [429]


def test_workers_flush_often_enough_for_a_poll_to_reach_each_other_in_time(
    app: Starlette, settings: Settings, clock: ManualClock
):
    def interval(offline_after: int, poll_seconds: int) -> float:
        chosen = settings.model_copy(
            update={"offline_after_seconds": offline_after, "poll_seconds": poll_seconds}
        )
        return boards.Boards(app.state.runtime.watches, chosen, clock).flush_seconds()

    # The defaults; a threshold just over a poll interval; a long one.
    assert interval(20, 5) == 5.0
    assert interval(11, 5) == 2.0
    assert interval(6, 5) == 1.0
    assert interval(600, 5) == 5.0
