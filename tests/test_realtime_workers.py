"""Two API worker processes sharing one store and one Redis: a change made through one
worker reaches a subscriber connected to the other, and only within its tenant; and a
suspension made through one worker ends a stream held open on the other.

Needs the Redis on 127.0.0.1:6379 (CI starts it); elsewhere these tests skip and say so.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pumppilot.clock import ManualClock
from tests.factories import PASSWORD, Tenant, make_tenant
from tests.live import graphql_socket, stream_error_code
from tests.process import redis_reachable, shared_store, worker_login, workers

REDIS_URL = "redis://127.0.0.1:6379/14"
QUEUE = "subscription { queueChanged { active { status userName } } }"


@dataclass
class TwoWorkers:
    a: str
    b: str
    client: httpx.AsyncClient
    relay: Tenant
    other: Tenant

    async def mutate(self, base: str, token: str, query: str) -> dict:
        headers = {"authorization": f"Bearer {token}"}
        answer = await self.client.post(f"{base}/graphql", json={"query": query}, headers=headers)
        body: dict = answer.json()
        return body


@pytest.fixture
async def two_workers(tmp_path: Path) -> AsyncIterator[TwoWorkers]:
    if not await redis_reachable(REDIS_URL):
        pytest.skip("no Redis at 127.0.0.1:6379; CI starts one (see .ci/run)")

    async with shared_store(tmp_path) as (uri, _):
        clock = ManualClock(datetime.now(UTC))
        relay = await make_tenant("relay", clock, balances={"ana": 5, "ben": 5})
        other = await make_tenant("other", clock, balances={"oda": 5})
        async with (
            workers(uri, tmp_path, 2, REDIS_URL=REDIS_URL) as (worker_a, worker_b),
            httpx.AsyncClient(timeout=30) as client,
        ):
            yield TwoWorkers(worker_a, worker_b, client, relay, other)


async def test_a_start_on_worker_a_reaches_a_subscriber_on_worker_b(two_workers: TwoWorkers):
    ben = await worker_login(two_workers.client, two_workers.b, "ben", PASSWORD)
    ana = await worker_login(two_workers.client, two_workers.a, "ana", PASSWORD)

    async with graphql_socket(two_workers.b.removeprefix("http://")) as socket:
        await socket.init(ben)
        await socket.subscribe(QUEUE)
        before = await socket.next_payload()
        await two_workers.mutate(two_workers.a, ana, "mutation { startMotor(minutes: 1) { id } }")
        after = await socket.payload_where("queueChanged", lambda queue: queue["active"])

    assert before["data"]["queueChanged"]["active"] is None
    assert after["active"] == {"status": "RUNNING", "userName": None}


async def test_a_tenant_hears_nothing_of_another_tenants_changes(two_workers: TwoWorkers):
    oda = await worker_login(two_workers.client, two_workers.b, "oda", PASSWORD)
    ana = await worker_login(two_workers.client, two_workers.a, "ana", PASSWORD)

    async with graphql_socket(two_workers.b.removeprefix("http://")) as socket:
        await socket.init(oda)
        await socket.subscribe(QUEUE)
        await socket.next_payload()
        # A change in the relay tenant, then one in Oda's own: the next message Oda gets
        # must be her own change, with nothing of the relay tenant's before it.
        await two_workers.mutate(two_workers.a, ana, "mutation { startMotor(minutes: 1) { id } }")
        await two_workers.mutate(two_workers.a, oda, "mutation { startMotor(minutes: 1) { id } }")
        seen = await socket.payload_where("queueChanged", lambda queue: queue["active"])

    assert seen["active"] == {"status": "RUNNING", "userName": "Oda"}


async def test_a_suspension_through_worker_a_ends_a_stream_on_worker_b(two_workers: TwoWorkers):
    ben = await worker_login(two_workers.client, two_workers.b, "ben", PASSWORD)
    admin = await worker_login(two_workers.client, two_workers.a, "relay-admin", PASSWORD)
    suspend = f'mutation {{ suspendUser(userId: "{two_workers.relay.user_id("ben")}") {{ id }} }}'

    async with graphql_socket(two_workers.b.removeprefix("http://")) as socket:
        await socket.init(ben)
        await socket.subscribe(QUEUE)
        await socket.next_payload()
        answer = await two_workers.mutate(two_workers.a, admin, suspend)
        ended = await socket.receive()

    assert "errors" not in answer, answer
    assert stream_error_code(ended) == "SUSPENDED"
