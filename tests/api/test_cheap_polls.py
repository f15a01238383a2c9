"""Polls that change nothing are answered from the worker's memory; anything that may
change the run still goes through the engines at once."""

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot import presence as presence_module
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import devices, queue, timer
from pumppilot.engines.devices import DeviceReport
from pumppilot.live import boards
from pumppilot.live.boards import BURST
from pumppilot.models import Device, Run, RunStatus
from pumppilot.presence import Presence
from tests.factories import PASSWORD, Tenant
from tests.helpers import gql, login, poll
from tests.store_commands import counter

SIGNALS = {"loadShedding": "0", "ready": "1", "output": "0"}


async def _poll(http: httpx.AsyncClient, tenant: Tenant, **report: str) -> httpx.Response:
    return await poll(http, tenant.id, tenant.device_id, tenant.device_key, **(SIGNALS | report))


async def test_a_poll_that_changes_nothing_costs_no_store_command(
    http: httpx.AsyncClient, tenant: Tenant
):
    # The first poll records the board's signals (a change); the next one changes nothing.
    await _poll(http, tenant)
    await _poll(http, tenant)

    with counter.counted() as commands:
        answer = await _poll(http, tenant)

    assert answer.status_code == 200
    assert commands == []


async def test_a_changed_signal_holds_the_run_at_the_same_poll(
    http: httpx.AsyncClient, tenant: Tenant
):
    ann = await login(http, "ann")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    running = await _poll(http, tenant)

    shedding = await _poll(http, tenant, loadShedding="1")

    assert running.json()["motor"] == "ON"
    assert shedding.json()["motor"] == "OFF"
    assert shedding.json()["state"] == "HOLD"
    # Boards read answers into small buffers; the bound is 256 bytes.
    assert len(running.content) < 256
    assert len(shedding.content) < 256


async def test_the_memory_answer_is_the_engines_answer(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, settings: Settings
):
    ann = await login(http, "ann")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=await login(http, "bob"))
    await _poll(http, tenant)
    clock.advance(4)

    remembered = (await _poll(http, tenant)).json()
    engines = await devices.poll(
        admin_id=str(tenant.id),
        device_id=tenant.device_id,
        key=tenant.device_key,
        report=DeviceReport(load_shedding=False, ready=True, output_on=False),
        settings=settings,
        clock=clock,
    )

    assert remembered["motor"] == "ON"
    assert remembered["remainingSeconds"] == engines.remaining_seconds == 296
    assert remembered["seq"] == engines.seq
    assert remembered["state"] == engines.state


async def test_a_rotated_key_is_refused_at_the_next_poll(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")
    assert (await _poll(http, tenant)).status_code == 200

    await gql(
        http,
        f'mutation {{ rotateDeviceKey(deviceId: "{tenant.device_id}") {{ key }} }}',
        token=admin,
    )
    refused = await _poll(http, tenant)

    assert refused.status_code == 401
    assert refused.json()["motor"] == "OFF"


async def test_a_board_let_through_on_its_last_check_still_needs_its_own_key(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    await _poll(http, tenant)
    await _poll(http, tenant)

    wrong = await poll(http, tenant.id, tenant.device_id, tenant.device_key[:-1] + "x")
    # Another tenant's good key, for a board of the same name in this tenant.
    borrowed = await poll(http, tenant.id, tenant.device_id, other_tenant.device_key)
    shifted = await poll(http, other_tenant.id, tenant.device_id, tenant.device_key)
    right = await _poll(http, tenant)

    assert (wrong.status_code, borrowed.status_code, shifted.status_code) == (401, 401, 401)
    assert right.status_code == 200


async def test_a_suspended_tenants_board_is_refused_at_the_next_poll(
    http: httpx.AsyncClient, tenant: Tenant
):
    assert (await _poll(http, tenant)).status_code == 200
    master = await login(http, "platform-master", PASSWORD)
    await gql(http, f'mutation {{ suspendAdmin(adminId: "{tenant.id}") {{ id }} }}', token=master)

    refused = await _poll(http, tenant)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "SUSPENDED"


async def test_a_board_polling_too_fast_is_told_when_to_come_back(
    http: httpx.AsyncClient, tenant: Tenant
):
    answers = [await _poll(http, tenant) for _ in range(BURST + 1)]

    assert [answer.status_code for answer in answers[:BURST]] == [200] * BURST
    assert answers[-1].status_code == 429
    assert answers[-1].json() == {
        "motor": "OFF",
        "error": {"code": "RATE_LIMITED", "message": answers[-1].json()["error"]["message"]},
    }
    assert int(answers[-1].headers["retry-after"]) >= 1


async def test_the_firmware_version_and_a_restart_are_kept(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")
    await _poll(http, tenant, fw="0.1.0", uptime="7500")
    await _poll(http, tenant, fw="0.1.0", uptime="7505")
    await _poll(http, tenant, fw="0.1.1", uptime="4")

    body = await gql(http, "{ devices { firmware uptimeSeconds } }", token=admin)

    assert body["data"]["devices"] == [{"firmware": "0.1.1", "uptimeSeconds": 4}]


async def test_a_malformed_report_is_a_clear_400(http: httpx.AsyncClient, tenant: Tenant):
    for report in ({"fw": "x" * 33}, {"uptime": "-5"}, {"uptime": "soon"}):
        answer = await _poll(http, tenant, **report)
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "BAD_USER_INPUT"


async def test_a_board_polling_from_memory_is_never_taken_for_silent(
    app: Starlette,
    tenant: Tenant,
    clock: ManualClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
):
    # The service's defaults: poll every 5 s, offline after 20 s without a poll. The test
    # polls faster than real time allows; the allowance is not what it is about.
    monkeypatch.setattr(boards, "BURST", 1000)
    strict = settings.model_copy(update={"offline_after_seconds": 20, "poll_seconds": 5})
    memory = boards.Boards(app.state.runtime.watches, strict, clock)
    monkeypatch.setattr(presence_module, "_presence", Presence(clock))
    report = DeviceReport(load_shedding=False, ready=True, output_on=True)
    await queue.start_run(
        tenant_id=tenant.id, user_id=tenant.user_id("ann"), minutes=5, settings=strict, clock=clock
    )

    # Half-second steps. The board polls a little late, every 5.5 s, the flush comes every
    # 5 s, and the timer ticks at every step.
    next_poll = 0.0
    for step in range(360):
        now = step / 2
        if now >= next_poll:
            answer = await memory.poll(
                admin_id=str(tenant.id),
                device_id=tenant.device_id,
                key=tenant.device_key,
                report=report,
            )
            assert answer.motor_on, f"the motor was stopped at {now} s"
            next_poll += 5.5
        if step % 10 == 9:
            await memory.flush()
        await timer.tick(settings=strict, clock=clock)
        clock.advance(0.5)

    run = await Run.find_one(Run.admin_id == tenant.id)
    stored = await Device.find_one(Device.board_key == Device.key_of(tenant.id, tenant.device_id))
    assert run is not None
    assert stored is not None
    assert run.status is RunStatus.RUNNING
    assert run.holds == []
    assert not stored.marked_offline
