"""The ESP32 poll: ON only while the tenant's run is RUNNING, OFF on every error."""

import json
from pathlib import Path

import httpx
import jsonschema
import pytest

from pumppilot.clock import ManualClock
from tests.factories import Tenant
from tests.helpers import gql, login, poll

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schema" / "device" / "poll-response.schema.json").read_text()
)


def checked(response: httpx.Response) -> dict[str, object]:
    """The answer, after checking it against the published contract."""
    body: dict[str, object] = response.json()
    jsonschema.validate(body, SCHEMA)
    assert len(response.content) < 256
    return body


async def test_poll_follows_the_run_from_idle_to_on_to_off(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    token = await login(http, "ann")
    idle = checked(await poll(http, tenant.id, "pump-1", tenant.device_key))

    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=token)
    clock.advance(61)
    running = checked(await poll(http, tenant.id, "pump-1", tenant.device_key))

    await gql(http, "mutation { stopMotor { id } }", token=token)
    stopped = checked(await poll(http, tenant.id, "pump-1", tenant.device_key))

    assert (idle["motor"], idle["state"]) == ("OFF", "IDLE")
    assert (running["motor"], running["state"], running["remainingSeconds"]) == (
        "ON",
        "RUNNING",
        239,
    )
    assert (stopped["motor"], stopped["state"]) == ("OFF", "IDLE")
    assert idle["seq"] < running["seq"] < stopped["seq"]


async def test_poll_turns_off_when_the_balance_runs_out(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await gql(http, "mutation { startMotor(minutes: 60) { id } }", token=await login(http, "ann"))
    clock.advance(600)

    answer = checked(await poll(http, tenant.id, "pump-1", tenant.device_key))
    wallet = await gql(http, "{ wallet { balanceSeconds } }", token=await login(http, "ann"))

    assert answer["motor"] == "OFF"
    assert wallet["data"]["wallet"]["balanceSeconds"] == 0


async def test_another_tenants_run_does_not_switch_this_motor(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=await login(http, "zed"))

    answer = checked(await poll(http, tenant.id, "pump-1", tenant.device_key))

    assert answer["motor"] == "OFF"


async def test_a_poll_without_a_key_is_401(http: httpx.AsyncClient, tenant: Tenant):
    response = await poll(http, tenant.id, "pump-1", None)

    assert response.status_code == 401
    assert checked(response)["motor"] == "OFF"


@pytest.mark.parametrize("key", ["ppd_wrong", ""])
async def test_a_poll_with_a_wrong_key_is_401(http: httpx.AsyncClient, tenant: Tenant, key: str):
    response = await poll(http, tenant.id, "pump-1", key)

    assert response.status_code == 401
    assert checked(response)["motor"] == "OFF"


async def test_one_tenants_key_does_not_open_anothers_device(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    response = await poll(http, other_tenant.id, "pump-1", tenant.device_key)

    assert response.status_code == 401
    assert checked(response)["motor"] == "OFF"


async def test_an_unknown_device_is_404(http: httpx.AsyncClient, tenant: Tenant):
    response = await poll(http, tenant.id, "pump-9", tenant.device_key)

    assert response.status_code == 404
    assert checked(response)["error"] == {
        "code": "NOT_FOUND",
        "message": "no such device in this tenant",
    }


@pytest.mark.parametrize(
    ("admin_id", "device_id", "report"),
    [
        ("not-an-id", "pump-1", {}),
        (None, "", {}),
        (None, "pump-1", {"loadShedding": "maybe"}),
    ],
)
async def test_bad_parameters_are_400(
    http: httpx.AsyncClient, tenant: Tenant, admin_id, device_id, report
):
    response = await poll(http, admin_id or tenant.id, device_id, tenant.device_key, **report)

    assert response.status_code == 400
    assert checked(response)["error"]["code"] == "BAD_USER_INPUT"


async def test_reported_signals_are_kept_on_the_device(http: httpx.AsyncClient, tenant: Tenant):
    from pumppilot.models import Device  # noqa: PLC0415

    await poll(http, tenant.id, "pump-1", tenant.device_key, loadShedding="1", ready="0")

    device = await Device.find_one(Device.admin_id == tenant.id)
    assert device is not None
    assert (device.load_shedding, device.ready, device.last_seen_at is not None) == (
        True,
        False,
        True,
    )


def test_published_examples_match_the_schema():
    for example in (Path(__file__).parents[2] / "schema" / "examples").glob("poll-*.json"):
        jsonschema.validate(json.loads(example.read_text()), SCHEMA)
