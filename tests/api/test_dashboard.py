"""The admin dashboard's query: a constant number of store reads whatever the tenant's
size, and a reused answer that never hides a change."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from tests import store_commands
from tests.factories import Tenant, make_user
from tests.helpers import gql, login
from tests.store_commands import CommandCounter

DASHBOARD = """{
  queue { active { userName remainingSeconds } waiting { position userName } }
  users { name balanceSeconds suspended }
  devices { deviceId online loadShedding ready }
}"""


@pytest.fixture
def counter() -> CommandCounter:
    return store_commands.counter


@pytest.fixture
async def fresh_answers_app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    """The app with answer reuse off, so every request runs its resolvers."""
    application = create_app(settings.model_copy(update={"reuse_answers": False}), clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def _commands_for_dashboard(http: httpx.AsyncClient, counter: CommandCounter) -> int:
    admin = await login(http, "farm-admin")
    await gql(http, DASHBOARD, token=admin)  # warms the session cache
    with counter.counted() as commands:
        body = await gql(http, DASHBOARD, token=admin)
    assert "errors" not in body, body
    return len(commands)


async def test_the_dashboard_reads_the_same_number_of_times_for_3_or_30_users(
    fresh_answers_app: Starlette, tenant: Tenant, clock: ManualClock, counter: CommandCounter
):
    transport = httpx.ASGITransport(app=fresh_answers_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pumppilot.test") as http:
        small = await _commands_for_dashboard(http, counter)
        for number in range(27):
            await make_user(tenant, f"extra{number:02}", 1, clock)
        large = await _commands_for_dashboard(http, counter)

    assert small > 0
    assert large == small


async def test_a_reused_answer_never_hides_a_change(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    admin, ann = await login(http, "farm-admin"), await login(http, "ann")
    answers = [await gql(http, DASHBOARD, token=admin) for _ in range(3)]
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    started = await gql(http, DASHBOARD, token=admin)
    clock.advance(30)
    later = await gql(http, DASHBOARD, token=admin)

    assert all(answer == answers[0] for answer in answers)
    assert answers[0]["data"]["queue"]["active"] is None
    assert started["data"]["queue"]["active"] == {"userName": "Ann", "remainingSeconds": 300}
    assert later["data"]["queue"]["active"]["remainingSeconds"] == 270


async def test_a_reused_answer_is_never_handed_to_another_caller(
    http: httpx.AsyncClient, tenant: Tenant
):
    admin, ann = await login(http, "farm-admin"), await login(http, "ann")
    await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann)
    query = "{ queue { active { userName } } }"
    bob = await login(http, "bob")

    for _ in range(2):
        as_admin = await gql(http, query, token=admin)
        as_bob = await gql(http, query, token=bob)

    assert as_admin["data"]["queue"]["active"] == {"userName": "Ann"}
    assert as_bob["data"]["queue"]["active"] == {"userName": None}


async def test_a_logout_ends_reuse_at_once(http: httpx.AsyncClient, tenant: Tenant):
    admin = await login(http, "farm-admin")
    for _ in range(3):
        await gql(http, DASHBOARD, token=admin)
    await gql(http, "mutation { logout }", token=admin)

    after = await gql(http, DASHBOARD, token=admin)

    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
