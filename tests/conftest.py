"""Fixtures shared by every test: one embedded store, a fresh database per test."""

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings, load_settings
from pumppilot.store import EmbeddedStore, Store, open_store
from tests.factories import Tenant, make_tenant


@pytest.fixture(scope="session")
def embedded_store() -> Iterator[EmbeddedStore]:
    """The real mongoeco wire server, in memory, shared by the whole run."""
    store = EmbeddedStore()
    store.start()
    yield store
    store.stop()


@pytest.fixture
def settings(embedded_store: EmbeddedStore, tmp_path: Path) -> Settings:
    return load_settings(
        mongodb_uri=embedded_store.uri,
        database=f"test_{secrets.token_hex(6)}",
        data_dir=tmp_path,
        token_secret="x" * 40,
        # Boards count as online for a day of test time unless a test says otherwise, and
        # no timer ticks behind a test's back: tests call `timer.tick` themselves.
        offline_after_seconds=24 * 3600,
        timer_seconds=0,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    opened = await open_store(settings)
    yield opened
    await opened.client.drop_database(settings.database)
    await opened.close()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application
        await application.state.store.client.drop_database(settings.database)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pumppilot.test") as client:
        yield client


@pytest.fixture
async def tenant(app: Starlette, clock: ManualClock) -> Tenant:
    """A tenant with an admin, three users holding 10, 10 and 0 minutes, and a device."""
    return await make_tenant("farm", clock, balances={"ann": 10, "bob": 10, "cat": 0})


@pytest.fixture
async def other_tenant(app: Starlette, clock: ManualClock) -> Tenant:
    return await make_tenant("village", clock, balances={"zed": 10})
