"""Subscriptions over a real websocket: first the current state, then changes, and a
stream that ends when its session does."""

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed, InvalidStatus

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import suspension
from tests.factories import Tenant
from tests.helpers import gql, login
from tests.live import graphql_socket, live_server, stream_error_code

QUEUE = "subscription { queueChanged { version active { userName } waiting { position } } }"
POSITION = "subscription { myQueuePosition { status position remainingSeconds } }"


async def test_queue_stream_sends_the_state_then_each_change(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant
):
    ann, bob = await login(http, "ann"), await login(http, "bob")

    async with live_server(app) as address, graphql_socket(address) as socket:
        assert (await socket.init(bob))["type"] == "connection_ack"
        await socket.subscribe(QUEUE)
        first = await socket.next_payload()

        await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
        changed = await socket.payload_where("queueChanged", lambda queue: queue["active"])

    assert first["data"]["queueChanged"]["active"] is None
    assert changed["active"] == {"userName": None}


async def test_my_position_follows_my_run(app: Starlette, http: httpx.AsyncClient, tenant: Tenant):
    ann, bob = await login(http, "ann"), await login(http, "bob")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(bob)
        await socket.subscribe(POSITION)
        idle = await socket.next_payload()
        await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=bob)
        waiting = await socket.payload_where(
            "myQueuePosition", lambda data: data["status"] == "WAITING"
        )
        await gql(http, "mutation { stopMotor { id } }", token=ann)
        running = await socket.payload_where(
            "myQueuePosition", lambda data: data["status"] == "RUNNING"
        )

    assert idle["data"]["myQueuePosition"]["status"] is None
    assert waiting["position"] == 1
    assert running["remainingSeconds"] == 300


async def test_a_suspended_users_open_stream_ends_with_a_clear_code(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock, settings: Settings
):
    bob = await login(http, "bob")

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(bob)
        await socket.subscribe(QUEUE)
        await socket.next_payload()

        await suspension.set_user_suspended(
            actor=tenant.as_admin,
            user_id=tenant.user_id("bob"),
            suspended=True,
            settings=settings,
            clock=clock,
        )
        ended = await socket.receive()

    assert stream_error_code(ended) == "SUSPENDED"


async def test_a_connection_without_a_valid_token_is_closed(app: Starlette, tenant: Tenant):
    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.send({"type": "connection_init", "payload": {"authorization": "Bearer x"}})
        with pytest.raises(ConnectionClosed) as closed:
            await socket.receive()

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_the_legacy_subprotocol_is_refused(app: Starlette):
    async with live_server(app) as address:
        with pytest.raises((InvalidStatus, ConnectionClosed)) as refused:
            await _legacy_handshake(address)

    assert isinstance(refused.value, InvalidStatus) or refused.value.rcvd.code == 4406


async def _legacy_handshake(address: str) -> None:
    async with graphql_socket(address, subprotocols=("graphql-ws",)) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        await socket.receive()


async def test_a_user_cannot_subscribe_to_another_tenants_queue(
    app: Starlette, http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    zed = await login(http, "zed")
    query = f'subscription {{ queueChanged(tenantId: "{tenant.id}") {{ version }} }}'

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(zed)
        await socket.subscribe(query)
        refused = await socket.receive()

    assert stream_error_code(refused) == "NOT_FOUND"
