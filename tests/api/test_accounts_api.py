"""Account management over GraphQL: who may create, recharge and read the audit trail."""

import httpx
import pytest

from pumppilot.clock import ManualClock
from pumppilot.engines import queue
from tests.factories import MASTER_IDENTIFIER, Tenant, master_caller
from tests.helpers import error_code, gql, login, poll

RECHARGE = (
    'mutation($u: ID!) { recharge(userId: $u, minutes: 5, idempotencyKey: "k1") '
    "{ seconds balanceAfter } }"
)


async def test_a_users_recharge_is_forbidden(http: httpx.AsyncClient, tenant: Tenant):
    token = await login(http, "ann")

    body = await gql(http, RECHARGE, {"u": str(tenant.user_id("ann"))}, token=token)

    assert error_code(body) == "FORBIDDEN"
    assert (await gql(http, "{ wallet { balanceSeconds } }", token=token))["data"]["wallet"] == {
        "balanceSeconds": 600
    }


async def test_an_admin_recharges_once_per_key(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")

    first = await gql(http, RECHARGE, {"u": str(tenant.user_id("cat"))}, token=admin)
    retry = await gql(http, RECHARGE, {"u": str(tenant.user_id("cat"))}, token=admin)

    assert first["data"]["recharge"] == {"seconds": 300, "balanceAfter": 300}
    assert retry["data"]["recharge"] == first["data"]["recharge"]


async def test_the_master_creates_a_tenant_that_can_log_in(
    http: httpx.AsyncClient, clock: ManualClock
):
    await master_caller(clock)
    master = await login(http, MASTER_IDENTIFIER)

    created = await gql(
        http,
        'mutation { createAdmin(identifier: "hill-admin", name: "Hill", '
        'password: "a long walk uphill") { identifier suspended } }',
        token=master,
    )
    listed = await gql(http, "{ admins { identifier } }", token=master)

    assert created["data"]["createAdmin"] == {"identifier": "hill-admin", "suspended": False}
    assert {"identifier": "hill-admin"} in listed["data"]["admins"]
    assert await login(http, "hill-admin", "a long walk uphill")


async def test_an_admin_creates_a_user_and_registers_a_device(
    http: httpx.AsyncClient, tenant: Tenant
):
    admin = await login(http, "farm-admin")

    user = await gql(
        http,
        'mutation { createUser(identifier: "newcomer", name: "New Comer", '
        'password: "a quiet green field", rfidCard: "abc123") { name rfidCard balanceSeconds } }',
        token=admin,
    )
    device = await gql(
        http,
        'mutation { registerDevice(deviceId: "pump-2", name: "Well") { key device { deviceId } } }',
        token=admin,
    )
    key = device["data"]["registerDevice"]["key"]

    assert user["data"]["createUser"] == {
        "name": "New Comer",
        "rfidCard": "ABC123",
        "balanceSeconds": 0,
    }
    assert (await poll(http, tenant.id, "pump-2", key)).status_code == 200


async def test_a_rotated_device_key_replaces_the_old_one(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")

    rotated = await gql(
        http, 'mutation { rotateDeviceKey(deviceId: "pump-1") { key } }', token=admin
    )
    new_key = rotated["data"]["rotateDeviceKey"]["key"]

    assert (await poll(http, tenant.id, "pump-1", tenant.device_key)).status_code == 401
    assert (await poll(http, tenant.id, "pump-1", new_key)).status_code == 200


async def test_a_user_token_is_not_a_device_key(http: httpx.AsyncClient, tenant: Tenant):
    token = await login(http, "ann")

    response = await poll(http, tenant.id, "pump-1", token)

    assert (response.status_code, response.json()["motor"]) == (401, "OFF")


async def test_the_audit_log_keeps_security_events_for_the_tenants_admin(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    await gql(http, 'mutation { login(identifier: "ann", password: "wrong guess 1") { token } }')
    admin = await login(http, "farm-admin")
    await gql(http, RECHARGE, {"u": str(tenant.user_id("bob"))}, token=admin)

    entries = await gql(
        http, "{ auditLog(limit: 100) { action tenantId clientAddress } }", token=admin
    )
    other = await gql(http, "{ auditLog { tenantId } }", token=await login(http, "village-admin"))

    actions = [entry["action"] for entry in entries["data"]["auditLog"]]
    assert {"LOGIN_FAILED", "LOGIN", "RECHARGE", "USER_CREATED", "DEVICE_REGISTERED"} <= set(
        actions
    )
    assert {entry["tenantId"] for entry in entries["data"]["auditLog"]} == {str(tenant.id)}
    assert {entry["tenantId"] for entry in other["data"]["auditLog"]} == {str(other_tenant.id)}


async def test_an_unexpected_fault_is_masked_with_a_stable_code(
    http: httpx.AsyncClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals: connection string mongodb://user:pw@host")

    monkeypatch.setattr(queue, "tenant_queue", broken)

    body = await gql(http, "{ queue { version } }", token=await login(http, "ann"))

    assert error_code(body) == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body)
    assert "Traceback" not in str(body)


async def test_the_masters_id_and_address_stay_out_of_a_tenants_audit_log(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await master_caller(clock)
    master = await login(http, MASTER_IDENTIFIER)
    for action in ("suspendAdmin", "reactivateAdmin"):
        await gql(
            http,
            f"mutation($a: ID!) {{ {action}(adminId: $a) {{ id }} }}",
            {"a": str(tenant.id)},
            token=master,
        )

    seen_by_admin = await gql(
        http,
        "{ auditLog { action actorRole actorId clientAddress } }",
        token=await login(http, "farm-admin"),
    )
    seen_by_master = await gql(
        http, "{ auditLog { action actorId } }", token=await login(http, MASTER_IDENTIFIER)
    )

    reactivation = next(
        entry
        for entry in seen_by_admin["data"]["auditLog"]
        if entry["action"] == "ADMIN_REACTIVATED"
    )
    assert reactivation == {
        "action": "ADMIN_REACTIVATED",
        "actorRole": "MASTER",
        "actorId": None,
        "clientAddress": None,
    }
    assert any(
        entry["actorId"]
        for entry in seen_by_master["data"]["auditLog"]
        if entry["action"] == "ADMIN_REACTIVATED"
    )
