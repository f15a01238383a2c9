"""Suspension takes effect at the next request on every channel."""

import httpx
from starlette.applications import Starlette

from pumppilot.clock import ManualClock
from pumppilot.models import EndReason, Run, RunStatus, User
from tests.factories import MASTER_IDENTIFIER, Tenant, make_user, master_caller
from tests.helpers import error_code, gql, login, poll, scan
from tests.live import graphql_socket, live_server, stream_error_code

START = "mutation { startMotor(minutes: 5) { id status } }"
LOGIN_ADMIN = (
    'mutation { login(identifier: "farm-admin", password: "correct horse battery") { token } }'
)


async def test_a_suspended_user_is_refused_on_every_channel(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    dee_user = await make_user(tenant, "dee", 10, clock, card="D1")
    dee = await login(http, "dee")
    admin = await login(http, "farm-admin")

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(dee)
        await socket.subscribe("subscription { queueChanged { version } }")
        await socket.next_payload()

        suspended = await gql(
            http,
            "mutation($u: ID!) { suspendUser(userId: $u) { suspended } }",
            {"u": str(dee_user.id)},
            token=admin,
        )
        stream_end = await socket.receive()

    assert suspended["data"]["suspendUser"] == {"suspended": True}
    assert stream_error_code(stream_end) == "SUSPENDED"
    assert error_code(await gql(http, "{ wallet { balanceSeconds } }", token=dee)) == "SUSPENDED"
    assert error_code(await gql(http, START, token=dee)) == "SUSPENDED"
    refused_scan = await scan(http, tenant.id, "pump-1", tenant.device_key, "D1")
    assert (refused_scan.status_code, refused_scan.json()["motor"]) == (403, "OFF")
    assert error_code(await gql(http, LOGIN_ADMIN.replace("farm-admin", "dee"))) == "SUSPENDED"


async def test_suspending_a_running_user_ends_the_run_with_its_charge(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann, admin = await login(http, "ann"), await login(http, "farm-admin")
    await gql(http, START, token=ann)
    clock.advance(42)

    await gql(
        http,
        "mutation($u: ID!) { suspendUser(userId: $u) { id } }",
        {"u": str(tenant.user_id("ann"))},
        token=admin,
    )

    run = await Run.find_one(Run.user_id == tenant.user_id("ann"))
    user = await User.get(tenant.user_id("ann"))
    assert run is not None
    assert user is not None
    assert (run.status, run.end_reason, run.charged_seconds) == (
        RunStatus.DONE,
        EndReason.SUSPENDED,
        42,
    )
    assert user.balance_seconds == 600 - 42


async def test_suspending_a_tenant_ends_its_run_turns_its_device_off_and_locks_it_out(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await master_caller(clock)
    master, admin = await login(http, MASTER_IDENTIFIER), await login(http, "farm-admin")
    ann, bob = await login(http, "ann"), await login(http, "bob")
    await gql(http, START, token=ann)
    await gql(http, START, token=bob)
    clock.advance(75)
    assert (await poll(http, tenant.id, "pump-1", tenant.device_key)).json()["motor"] == "ON"

    body = await gql(
        http,
        "mutation($a: ID!) { suspendAdmin(adminId: $a) { suspended } }",
        {"a": str(tenant.id)},
        token=master,
    )

    device = await poll(http, tenant.id, "pump-1", tenant.device_key)
    runs = {run.user_id: run for run in await Run.find(Run.admin_id == tenant.id).to_list()}
    ann_run, bob_run = runs[tenant.user_id("ann")], runs[tenant.user_id("bob")]
    assert body["data"]["suspendAdmin"] == {"suspended": True}
    assert (device.status_code, device.json()["motor"]) == (403, "OFF")
    assert (ann_run.status, ann_run.end_reason, ann_run.charged_seconds) == (
        RunStatus.DONE,
        EndReason.SUSPENDED,
        75,
    )
    assert (bob_run.status, bob_run.charged_seconds) == (RunStatus.CANCELLED, 0)
    assert error_code(await gql(http, "{ wallet { balanceSeconds } }", token=bob)) == "SUSPENDED"
    assert error_code(await gql(http, "{ users { id } }", token=admin)) == "SUSPENDED"
    assert error_code(await gql(http, LOGIN_ADMIN)) == "SUSPENDED"


async def test_a_reactivated_tenant_works_again(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await master_caller(clock)
    master = await login(http, MASTER_IDENTIFIER)
    for action in ("suspendAdmin", "reactivateAdmin"):
        await gql(
            http,
            f"mutation($a: ID!) {{ {action}(adminId: $a) {{ suspended }} }}",
            {"a": str(tenant.id)},
            token=master,
        )

    started = await gql(http, START, token=await login(http, "ann"))

    assert started["data"]["startMotor"]["status"] == "RUNNING"
    assert (await poll(http, tenant.id, "pump-1", tenant.device_key)).json()["motor"] == "ON"
