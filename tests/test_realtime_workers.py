"""Two API worker processes sharing one store and one Redis: a change made through one
worker reaches a subscriber connected to the other.

Needs the Redis on 127.0.0.1:6379 (CI starts it); elsewhere this test skips and says so.
"""

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pumppilot.clock import ManualClock
from tests.factories import PASSWORD, make_tenant
from tests.live import graphql_socket
from tests.process import redis_reachable, shared_store, worker_login, workers

REDIS_URL = "redis://127.0.0.1:6379/14"


async def test_a_start_on_worker_a_reaches_a_subscriber_on_worker_b(tmp_path: Path):
    if not await redis_reachable(REDIS_URL):
        pytest.skip("no Redis at 127.0.0.1:6379; CI starts one (see .ci/run)")

    async with shared_store(tmp_path) as (uri, _):
        await make_tenant("relay", ManualClock(datetime.now(UTC)), balances={"ana": 5, "ben": 5})

        async with (
            workers(uri, tmp_path, 2, REDIS_URL=REDIS_URL) as (worker_a, worker_b),
            httpx.AsyncClient(timeout=30) as client,
        ):
            ben = await worker_login(client, worker_b, "ben", PASSWORD)
            ana = await worker_login(client, worker_a, "ana", PASSWORD)
            address = worker_b.removeprefix("http://")
            async with graphql_socket(address) as socket:
                await socket.init(ben)
                await socket.subscribe("subscription { queueChanged { active { status } } }")
                before = await socket.next_payload()

                await client.post(
                    f"{worker_a}/graphql",
                    json={"query": "mutation { startMotor(minutes: 1) { id } }"},
                    headers={"authorization": f"Bearer {ana}"},
                )
                after = await socket.next_payload()

    assert before["data"]["queueChanged"]["active"] is None
    assert after["data"]["queueChanged"]["active"] == {"status": "RUNNING"}
