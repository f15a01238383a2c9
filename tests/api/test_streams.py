"""The live streams beyond the queue: wallets, users, boards and a run's estimated start;
and the protocol's guards: the init timeout and the per-connection cap."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import timer
from tests.factories import Tenant
from tests.helpers import gql, login, poll
from tests.live import graphql_socket, live_server

RECHARGE = (
    'mutation($u: ID!) { recharge(userId: $u, minutes: 5, idempotencyKey: "top-up") '
    "{ balanceAfter } }"
)


async def test_a_wallet_stream_sends_the_balance_then_each_change(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant
):
    ann, admin = await login(http, "ann"), await login(http, "farm-admin")

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(ann)
        await socket.subscribe("subscription { walletChanged { balanceSeconds } }")
        first = await socket.next_payload()
        await gql(http, RECHARGE, {"u": str(tenant.user_id("ann"))}, token=admin)
        second = await socket.next_payload()

    assert first["data"]["walletChanged"]["balanceSeconds"] == 600
    assert second["data"]["walletChanged"]["balanceSeconds"] == 900


async def test_an_admin_follows_every_balance_of_the_tenant(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant
):
    admin = await login(http, "farm-admin")
    query = "subscription { usersChanged { identifier balanceSeconds } }"

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(admin)
        await socket.subscribe(query)
        first = await socket.next_payload()
        await gql(http, RECHARGE, {"u": str(tenant.user_id("cat"))}, token=admin)
        second = await socket.next_payload()

    def balances(payload: dict) -> dict[str, int]:
        return {
            user["identifier"]: user["balanceSeconds"] for user in payload["data"]["usersChanged"]
        }

    assert balances(first) == {"ann": 600, "bob": 600, "cat": 0}
    assert balances(second) == {"ann": 600, "bob": 600, "cat": 300}


async def test_a_board_stream_shows_signals_and_going_offline(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, settings: Settings
):
    admin = await login(http, "farm-admin")
    query = "subscription { deviceChanged { deviceId online loadShedding } }"

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(admin)
        await socket.subscribe(query)
        first = await socket.next_payload()
        await poll(http, tenant.id, tenant.device_id, tenant.device_key, loadShedding="1")
        shedding = await socket.next_payload()
        clock.advance(settings.offline_after_seconds + 1)
        await timer.tick(settings=settings, clock=clock)
        silent = await socket.next_payload()

    assert first["data"]["deviceChanged"] == [
        {"deviceId": "pump-1", "online": True, "loadShedding": False}
    ]
    assert shedding["data"]["deviceChanged"][0]["loadShedding"] is True
    assert silent["data"]["deviceChanged"][0]["online"] is False


async def test_a_waiting_user_is_told_when_their_run_should_start(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann, bob = await login(http, "ann"), await login(http, "bob")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    await gql(http, "mutation { startMotor(minutes: 3) { id } }", token=bob)
    clock.advance(60)

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(bob)
        await socket.subscribe("subscription { myQueuePosition { position estimatedStartAt } }")
        mine = (await socket.next_payload())["data"]["myQueuePosition"]

    # Ann has four of her five minutes left.
    assert mine["position"] == 1
    assert mine["estimatedStartAt"] == (clock.now() + timedelta(seconds=240)).isoformat()


async def test_users_see_only_their_own_name_even_when_streams_share_a_result(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant
):
    ann, bob, cat = [await login(http, name) for name in ("ann", "bob", "cat")]
    admin = await login(http, "farm-admin")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    query = "subscription { queueChanged { active { userName } } }"

    seen = {}
    async with live_server(app) as address:
        for name, token in {"ann": ann, "bob": bob, "cat": cat, "admin": admin}.items():
            async with graphql_socket(address) as socket:
                await socket.init(token)
                await socket.subscribe(query)
                seen[name] = (await socket.next_payload())["data"]["queueChanged"]["active"]

    assert seen == {
        "ann": {"userName": "Ann"},
        "bob": {"userName": None},
        "cat": {"userName": None},
        "admin": {"userName": "Ann"},
    }


@pytest.fixture
async def impatient_app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    application = create_app(settings.model_copy(update={"ws_init_seconds": 0.2}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_socket_that_never_sends_connection_init_is_closed(impatient_app: Starlette):
    async with live_server(impatient_app) as address, graphql_socket(address) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_one_connection_may_hold_only_so_many_subscriptions(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant
):
    bob = await login(http, "bob")

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(bob)
        for number in range(10):
            await socket.subscribe("subscription { queueChanged { version } }", str(number))
            await socket.next_payload()
        await socket.subscribe("subscription { queueChanged { version } }", "one-too-many")
        refused = await socket.receive()

    assert refused["type"] == "error"
    assert refused["id"] == "one-too-many"
