"""RFID scans: a card starts, queues or ends its holder's run in the board's tenant."""

import json
from pathlib import Path

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource

from pumppilot.clock import ManualClock
from tests.factories import Tenant, make_user
from tests.helpers import poll, scan

SCHEMA_DIR = Path(__file__).parents[2] / "schema" / "device"
POLL_SCHEMA = json.loads((SCHEMA_DIR / "poll-response.schema.json").read_text())
SCAN_SCHEMA = json.loads((SCHEMA_DIR / "scan-response.schema.json").read_text())
# The scan answer's error branch refers to the poll's, by its published id.
VALIDATOR = jsonschema.Draft202012Validator(
    SCAN_SCHEMA,
    registry=Registry().with_resource(POLL_SCHEMA["$id"], Resource.from_contents(POLL_SCHEMA)),
)


def checked(response: httpx.Response) -> dict[str, object]:
    body: dict[str, object] = response.json()
    VALIDATOR.validate(body)
    return body


@pytest.fixture
async def carded(tenant: Tenant, clock: ManualClock) -> Tenant:
    await make_user(tenant, "kim", 10, clock, card="CAFE01")
    await make_user(tenant, "lee", 10, clock, card="CAFE02")
    return tenant


async def test_a_card_starts_then_stops_its_holders_run(
    http: httpx.AsyncClient, carded: Tenant, clock: ManualClock
):
    started = checked(await scan(http, carded.id, "pump-1", carded.device_key, "cafe01"))
    on = (await poll(http, carded.id, "pump-1", carded.device_key)).json()["motor"]
    clock.advance(30)
    stopped = checked(await scan(http, carded.id, "pump-1", carded.device_key, "CAFE01"))
    off = (await poll(http, carded.id, "pump-1", carded.device_key)).json()["motor"]

    assert (started["action"], on, stopped["action"], off) == ("STARTED", "ON", "STOPPED", "OFF")


async def test_a_second_card_joins_the_queue_and_can_leave_it(
    http: httpx.AsyncClient, carded: Tenant
):
    await scan(http, carded.id, "pump-1", carded.device_key, "CAFE01")

    queued = checked(await scan(http, carded.id, "pump-1", carded.device_key, "CAFE02"))
    left = checked(await scan(http, carded.id, "pump-1", carded.device_key, "CAFE02"))

    assert (queued["action"], queued["state"]) == ("QUEUED", "WAITING")
    assert (left["action"], left["state"]) == ("LEFT_QUEUE", "CANCELLED")


async def test_an_unknown_card_is_404(http: httpx.AsyncClient, carded: Tenant):
    response = await scan(http, carded.id, "pump-1", carded.device_key, "BEEF99")

    assert response.status_code == 404
    assert checked(response)["motor"] == "OFF"


async def test_a_card_of_another_tenant_does_nothing_here(
    http: httpx.AsyncClient, carded: Tenant, other_tenant: Tenant
):
    response = await scan(http, other_tenant.id, "pump-1", other_tenant.device_key, "CAFE01")

    assert response.status_code == 404


async def test_a_scan_needs_the_device_key(http: httpx.AsyncClient, carded: Tenant):
    missing = await scan(http, carded.id, "pump-1", None, "CAFE01")
    wrong = await scan(http, carded.id, "pump-1", "ppd_nope", "CAFE01")

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert checked(wrong)["motor"] == "OFF"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"card"', b"{" + b" " * 2000 + b"}"])
async def test_a_malformed_scan_is_400(http: httpx.AsyncClient, carded: Tenant, body: bytes):
    response = await http.post(
        "/api/esp32/scan",
        content=body,
        headers={"authorization": f"Bearer {carded.device_key}"},
    )

    assert response.status_code == 400
    assert checked(response)["error"]["code"] == "BAD_USER_INPUT"
