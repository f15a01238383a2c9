"""A storm: fifty users of one tenant press start at once, spread over two API worker
processes that share one store. Exactly one run is active, the others wait at positions
1 to 49, and the queue then drains by itself through deadlines, each charge exact.

Deadlines are driven by this test acting as a third worker whose clock it moves, so the
drain takes seconds, not fifty minutes.
"""

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from pumppilot.clock import ManualClock
from pumppilot.config import Settings, load_settings
from pumppilot.engines import timer
from pumppilot.models import LedgerEntry, Run, RunStatus, User
from pumppilot.store import open_store
from tests.factories import PASSWORD, Tenant, make_tenant
from tests.process import free_port

USERS = [f"storm{number:02}" for number in range(50)]
STARTUP_SECONDS = 60
SECRET = "s" * 40


@contextmanager
def running(arguments: list[str], environment: dict[str, str], cwd: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pumppilot", *arguments],
        env=environment,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


async def wait_until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(STARTUP_SECONDS * 10):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@asynccontextmanager
async def shared_store(tmp_path: Path) -> AsyncIterator[tuple[str, Settings]]:
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    environment = {**os.environ, "PUMPPILOT_DATA_DIR": str(tmp_path)}
    with running(["store", "--memory", "--port", str(port)], environment, tmp_path):
        settings = load_settings(
            mongodb_uri=uri,
            database="storm",
            data_dir=tmp_path,
            token_secret=SECRET,
            offline_after_seconds=7 * 24 * 3600,
            timer_seconds=0,
        )
        for _ in range(STARTUP_SECONDS * 10):
            try:
                store = await open_store(settings)
                break
            except Exception:  # the store process may still be starting
                await asyncio.sleep(0.1)
        try:
            yield uri, settings
        finally:
            await store.close()


@asynccontextmanager
async def workers(uri: str, tmp_path: Path, count: int) -> AsyncIterator[list[str]]:
    ports = [free_port() for _ in range(count)]
    with contextlib.ExitStack() as stack:
        for port in ports:
            environment = {
                **os.environ,
                "MONGODB_URI": uri,
                "PUMPPILOT_DATABASE": "storm",
                "PUMPPILOT_TOKEN_SECRET": SECRET,
                "PUMPPILOT_PORT": str(port),
                "PUMPPILOT_TIMER_SECONDS": "0",
                "PUMPPILOT_OFFLINE_AFTER_SECONDS": str(7 * 24 * 3600),
                "PUMPPILOT_LOG_LEVEL": "WARNING",
            }
            stack.enter_context(running(["serve"], environment, tmp_path))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            await wait_until_up(f"{base}/healthz")
        yield bases


async def login(client: httpx.AsyncClient, base: str, name: str) -> str:
    query = f'mutation {{ login(identifier: "{name}", password: "{PASSWORD}") {{ token }} }}'
    body = (await client.post(f"{base}/graphql", json={"query": query})).json()
    token: str = body["data"]["login"]["token"]
    return token


async def test_fifty_starts_over_two_workers_then_a_drain_by_deadlines(tmp_path: Path):
    clock = ManualClock(datetime.now(UTC))
    async with shared_store(tmp_path) as (uri, settings):
        tenant: Tenant = await make_tenant("storm", clock, balances=dict.fromkeys(USERS, 5))

        async with workers(uri, tmp_path, 2) as bases, httpx.AsyncClient(timeout=60) as client:
            tokens = [await login(client, bases[0], name) for name in USERS]
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
