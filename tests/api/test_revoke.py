"""Revoking a board: refused on every device channel at once, its run held, undone only
by a new key, and only by its own tenant's admin."""

import httpx

from pumppilot.clock import ManualClock
from tests.factories import Tenant
from tests.helpers import error_code, gql, login, poll, scan

REVOKE = 'mutation { revokeDevice(deviceId: "pump-1") { deviceId revoked online } }'
SAFE = {"loadShedding": "0", "ready": "1", "output": "1"}


async def test_a_revoked_board_is_refused_until_its_key_is_rotated(
    http: httpx.AsyncClient, tenant: Tenant
):
    admin = await login(http, "farm-admin")

    revoked = await gql(http, REVOKE, token=admin)
    refused = await poll(http, tenant.id, "pump-1", tenant.device_key)
    card = await scan(http, tenant.id, "pump-1", tenant.device_key, "ANN-CARD")
    rotated = await gql(
        http, 'mutation { rotateDeviceKey(deviceId: "pump-1") { key } }', token=admin
    )
    new_key = rotated["data"]["rotateDeviceKey"]["key"]
    audit = await gql(http, "{ auditLog { action target } }", token=admin)

    assert revoked["data"]["revokeDevice"] == {
        "deviceId": "pump-1",
        "revoked": True,
        "online": False,
    }
    assert refused.status_code == 401
    assert refused.json()["motor"] == "OFF"
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert card.status_code == 401
    assert (await poll(http, tenant.id, "pump-1", tenant.device_key)).status_code == 401
    assert (await poll(http, tenant.id, "pump-1", new_key)).status_code == 200
    assert {"action": "DEVICE_REVOKED", "target": "pump-1"} in audit["data"]["auditLog"]


async def test_revoking_the_board_that_runs_the_pump_holds_the_run_at_once(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann = await login(http, "ann")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    running = (await poll(http, tenant.id, "pump-1", tenant.device_key, **SAFE)).json()
    clock.advance(30)

    await gql(http, REVOKE, token=await login(http, "farm-admin"))
    clock.advance(120)
    queue = await gql(
        http, "{ queue { active { status holdReason remainingSeconds } } }", token=ann
    )

    assert running["motor"] == "ON"
    # Held from the revocation on: the two minutes after it cost nothing.
    assert queue["data"]["queue"]["active"] == {
        "status": "HOLD",
        "holdReason": "DEVICE_OFFLINE",
        "remainingSeconds": 270,
    }


async def test_only_the_boards_own_admin_may_revoke_it(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    as_user = await gql(http, REVOKE, token=await login(http, "ann"))
    # Both tenants have a pump-1: the other admin's revocation reaches only their own.
    await gql(http, REVOKE, token=await login(http, "village-admin"))

    assert error_code(as_user) == "FORBIDDEN"
    assert (await poll(http, tenant.id, "pump-1", tenant.device_key)).status_code == 200
    theirs = await poll(http, other_tenant.id, "pump-1", other_tenant.device_key)
    assert theirs.status_code == 401
