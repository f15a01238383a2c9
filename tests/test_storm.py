"""A storm: fifty users of one tenant press start at once, spread over two API worker
processes that share one store. Exactly one run is active, the others wait at positions
1 to 49, and the queue then drains by itself through deadlines, each charge exact.

Deadlines are driven by this test acting as a third worker whose clock it moves, so the
drain takes seconds, not fifty minutes.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from pumppilot.clock import ManualClock
from pumppilot.engines import timer
from pumppilot.models import LedgerEntry, Run, RunStatus, User
from tests.factories import PASSWORD, Tenant, make_tenant
from tests.process import shared_store, worker_login, workers

USERS = [f"storm{number:02}" for number in range(50)]


async def test_fifty_starts_over_two_workers_then_a_drain_by_deadlines(tmp_path: Path):
    clock = ManualClock(datetime.now(UTC))
    async with shared_store(tmp_path) as (uri, settings):
        tenant: Tenant = await make_tenant("storm", clock, balances=dict.fromkeys(USERS, 5))

        async with workers(uri, tmp_path, 2) as bases, httpx.AsyncClient(timeout=60) as client:
            tokens = [await worker_login(client, bases[0], name, PASSWORD) for name in USERS]
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"{bases[number % 2]}/graphql",
                        json={"query": "mutation { startMotor(minutes: 1) { status position } }"},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    for number, token in enumerate(tokens)
                )
            )

        starts = [answer.json()["data"]["startMotor"] for answer in answers]
        assert [start["status"] for start in starts].count("RUNNING") == 1
        positions = sorted(start["position"] for start in starts if start["position"])
        assert positions == list(range(1, 50))

        # Drain: the first run started on a worker's real clock a moment ago; from here
        # this test's clock takes over, a minute per run.
        drain = ManualClock(datetime.now(UTC) + timedelta(seconds=1))
        for _ in USERS:
            drain.advance(60)
            await timer.tick(settings=settings, clock=drain)

        runs = await Run.find(Run.admin_id == tenant.id).to_list()
        assert {run.status for run in runs} == {RunStatus.DONE}
        assert {run.charged_seconds for run in runs} == {60}
        for name in USERS:
            user = await User.get(tenant.user_id(name))
            entries = await LedgerEntry.find(LedgerEntry.user_id == tenant.user_id(name)).to_list()
            assert user is not None
            assert user.balance_seconds == 300 - 60 == sum(entry.seconds for entry in entries)
