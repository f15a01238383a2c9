"""Usage per day, for a user and for a tenant, a page at a time."""

import httpx

from pumppilot.clock import ManualClock
from tests.factories import Tenant
from tests.helpers import error_code, gql, login, poll

START = "mutation { startMotor(minutes: 5) { id } }"
STOP = "mutation { stopMotor { id } }"


async def run_for(http: httpx.AsyncClient, token: str, clock: ManualClock, seconds: int) -> None:
    await gql(http, START, token=token)
    clock.advance(seconds)
    await gql(http, STOP, token=token)


async def test_days_add_up_per_user_and_per_tenant(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann, bob = await login(http, "ann"), await login(http, "bob")
    await run_for(http, ann, clock, 30)
    await run_for(http, bob, clock, 40)
    clock.advance(24 * 3600)
    # A day later the board is still there, polling.
    await poll(http, tenant.id, tenant.device_id, tenant.device_key)
    ann = await login(http, "ann")
    await run_for(http, ann, clock, 50)
    admin = await login(http, "farm-admin")

    own = await gql(http, "{ dailyUsage { date runs chargedSeconds } }", token=ann)
    whole = await gql(http, "{ dailyUsage { date runs secondsRun } }", token=admin)
    paged = await gql(http, '{ dailyUsage(limit: 1, before: "2026-01-02") { date } }', token=admin)

    assert own["data"]["dailyUsage"] == [
        {"date": "2026-01-02", "runs": 1, "chargedSeconds": 50},
        {"date": "2026-01-01", "runs": 1, "chargedSeconds": 30},
    ]
    assert whole["data"]["dailyUsage"] == [
        {"date": "2026-01-02", "runs": 1, "secondsRun": 50},
        {"date": "2026-01-01", "runs": 2, "secondsRun": 70},
    ]
    assert paged["data"]["dailyUsage"] == [{"date": "2026-01-01"}]


async def test_a_bad_cursor_is_bad_input(http: httpx.AsyncClient, tenant: Tenant):
    body = await gql(
        http, '{ dailyUsage(before: "yesterday") { date } }', token=await login(http, "ann")
    )

    assert error_code(body) == "BAD_USER_INPUT"
