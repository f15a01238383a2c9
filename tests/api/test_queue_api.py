"""Queue operations over GraphQL beyond start and stop, and the timer inside the app."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.models import Run, RunStatus
from tests.factories import Tenant, make_user
from tests.helpers import error_code, gql, login

START = "mutation { startMotor(minutes: 5) { id status position } }"


async def test_a_waiting_user_leaves_and_the_queue_closes_up(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await make_user(tenant, "dan", 10, clock)
    ann, bob, dan = [await login(http, name) for name in ("ann", "bob", "dan")]
    for token in (ann, bob, dan):
        await gql(http, START, token=token)

    left = await gql(http, "mutation { leaveQueue { status endReason } }", token=bob)
    queue = await gql(http, "{ queue { waiting { position } } }", token=dan)

    assert left["data"]["leaveQueue"] == {"status": "CANCELLED", "endReason": "LEFT_QUEUE"}
    assert queue["data"]["queue"]["waiting"] == [{"position": 1}]


async def test_leaving_is_for_waiting_runs_only(http: httpx.AsyncClient, tenant: Tenant):
    ann = await login(http, "ann")
    await gql(http, START, token=ann)

    assert error_code(await gql(http, "mutation { leaveQueue { id } }", token=ann)) == "NOT_FOUND"


async def test_an_admin_stops_the_active_run_and_the_next_starts(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann, bob = await login(http, "ann"), await login(http, "bob")
    running = await gql(http, START, token=ann)
    await gql(http, START, token=bob)
    clock.advance(33)

    ended = await gql(
        http,
        "mutation($r: ID!) { endRun(runId: $r) { status endReason chargedSeconds } }",
        {"r": running["data"]["startMotor"]["id"]},
        token=await login(http, "farm-admin"),
    )
    bob_now = await gql(http, "{ queue { active { userName status } } }", token=bob)

    assert ended["data"]["endRun"] == {
        "status": "DONE",
        "endReason": "STOPPED_BY_ADMIN",
        "chargedSeconds": 33,
    }
    assert bob_now["data"]["queue"]["active"] == {"userName": "Bob", "status": "RUNNING"}


async def test_the_wallet_shows_the_balance_as_if_the_run_stopped_now(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann = await login(http, "ann")
    await gql(http, START, token=ann)
    clock.advance(70)

    wallet = await gql(http, "{ wallet { balanceSeconds pendingSeconds } }", token=ann)

    assert wallet["data"]["wallet"] == {"balanceSeconds": 530, "pendingSeconds": 70}


async def test_a_tenant_minimum_refuses_a_start_below_it(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")
    changed = await gql(
        http,
        "mutation { updateTenantSettings(minStartMinutes: 15) { minStartMinutes } }",
        token=admin,
    )

    refused = await gql(http, START, token=await login(http, "ann"))

    assert changed["data"]["updateTenantSettings"] == {"minStartMinutes": 15}
    assert error_code(refused) == "INSUFFICIENT_BALANCE"


@pytest.fixture
async def ticking_app(
    settings: Settings, clock: ManualClock, app: Starlette
) -> AsyncIterator[Starlette]:
    """A second app over the same database, with its timer running every 20 ms."""
    application = create_app(settings.model_copy(update={"timer_seconds": 0.02}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_the_apps_timer_ends_a_run_nobody_is_looking_at(
    ticking_app: Starlette, http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    await gql(http, "mutation { startMotor(minutes: 1) { id } }", token=await login(http, "ann"))
    clock.advance(61)

    for _ in range(250):
        run = await Run.find_one(Run.user_id == tenant.user_id("ann"))
        if run is not None and run.status is RunStatus.DONE:
            break
        await asyncio.sleep(0.02)

    assert run is not None
    assert (run.status, run.charged_seconds) == (RunStatus.DONE, 60)
