"""Users ask for minutes; their admin approves (recharging once) or rejects."""

import httpx

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import timer
from pumppilot.models import LedgerEntry, MinuteRequest, MinuteRequestStatus, User
from tests.factories import Tenant
from tests.helpers import error_code, gql, login

ASK = 'mutation { requestMinutes(minutes: 20, note: "for the paddy") { id status } }'
DECIDE = (
    "mutation($id: ID!, $yes: Boolean!) { decideMinuteRequest(id: $id, approve: $yes) "
    "{ status decidedAt } }"
)
WALLET = "{ wallet { balanceSeconds } }"


async def test_an_approved_request_recharges_once(http: httpx.AsyncClient, tenant: Tenant):
    cat, admin = await login(http, "cat"), await login(http, "farm-admin")
    asked = (await gql(http, ASK, token=cat))["data"]["requestMinutes"]

    approved = await gql(http, DECIDE, {"id": asked["id"], "yes": True}, token=admin)
    again = await gql(http, DECIDE, {"id": asked["id"], "yes": False}, token=admin)

    assert asked["status"] == "PENDING"
    assert approved["data"]["decideMinuteRequest"]["status"] == "APPROVED"
    assert error_code(again) == "CONFLICT"
    assert (await gql(http, WALLET, token=cat))["data"]["wallet"]["balanceSeconds"] == 1200


async def test_a_rejected_request_changes_no_balance(http: httpx.AsyncClient, tenant: Tenant):
    cat, admin = await login(http, "cat"), await login(http, "farm-admin")
    asked = (await gql(http, ASK, token=cat))["data"]["requestMinutes"]

    rejected = await gql(http, DECIDE, {"id": asked["id"], "yes": False}, token=admin)
    seen = await gql(http, "{ minuteRequests { status } }", token=cat)

    assert rejected["data"]["decideMinuteRequest"]["status"] == "REJECTED"
    assert seen["data"]["minuteRequests"] == [{"status": "REJECTED"}]
    assert (await gql(http, WALLET, token=cat))["data"]["wallet"]["balanceSeconds"] == 0


async def test_a_user_may_have_only_a_few_requests_waiting(http: httpx.AsyncClient, tenant: Tenant):
    cat = await login(http, "cat")
    for _ in range(3):
        await gql(http, ASK, token=cat)

    assert error_code(await gql(http, ASK, token=cat)) == "CONFLICT"


async def test_users_see_their_own_requests_and_admins_all(http: httpx.AsyncClient, tenant: Tenant):
    cat, bob = await login(http, "cat"), await login(http, "bob")
    await gql(http, ASK, token=cat)
    await gql(http, ASK, token=bob)

    by_cat = await gql(http, "{ minuteRequests { userId } }", token=cat)
    by_admin = await gql(
        http,
        "{ minuteRequests(status: PENDING) { userId } }",
        token=await login(http, "farm-admin"),
    )

    assert by_cat["data"]["minuteRequests"] == [{"userId": str(tenant.user_id("cat"))}]
    assert len(by_admin["data"]["minuteRequests"]) == 2


async def test_an_approval_left_uncredited_by_a_killed_process_is_credited_once(
    tenant: Tenant, settings: Settings, clock: ManualClock
):
    cat = tenant.user_id("cat")
    request = MinuteRequest(admin_id=tenant.id, user_id=cat, minutes=7, created_at=clock.now())
    await request.insert()
    # Killed right after the approval was written, before the recharge.
    await request.set(
        {"status": MinuteRequestStatus.APPROVED, "decided_by": tenant.id, "credited": False}
    )

    await timer.tick(settings=settings, clock=clock)
    await timer.tick(settings=settings, clock=clock)

    user = await User.get(cat)
    entries = await LedgerEntry.find(LedgerEntry.user_id == cat).to_list()
    assert user is not None
    assert user.balance_seconds == 420 == sum(entry.seconds for entry in entries)
