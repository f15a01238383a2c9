"""Admins correct balances and refund runs; both go on the ledger with a reason."""

import httpx

from pumppilot.clock import ManualClock
from tests.factories import Tenant
from tests.helpers import error_code, gql, login

ADJUST = (
    "mutation($u: ID!, $s: Int!, $k: String!) { adjustBalance(userId: $u, seconds: $s, "
    'reason: "meter fault", idempotencyKey: $k) { kind seconds balanceAfter reason } }'
)
REFUND = (
    "mutation($r: ID!, $s: Int!) { refundRun(runId: $r, seconds: $s, "
    'reason: "pump ran dry") { kind seconds balanceAfter } }'
)


async def test_an_adjustment_moves_the_balance_either_way_but_never_below_zero(
    http: httpx.AsyncClient, tenant: Tenant
):
    admin, user_id = await login(http, "farm-admin"), str(tenant.user_id("ann"))

    down = await gql(http, ADJUST, {"u": user_id, "s": -100, "k": "a1"}, token=admin)
    up = await gql(http, ADJUST, {"u": user_id, "s": 40, "k": "a2"}, token=admin)
    too_far = await gql(http, ADJUST, {"u": user_id, "s": -10_000, "k": "a3"}, token=admin)

    assert down["data"]["adjustBalance"] == {
        "kind": "ADJUSTMENT",
        "seconds": -100,
        "balanceAfter": 500,
        "reason": "meter fault",
    }
    assert up["data"]["adjustBalance"]["balanceAfter"] == 540
    assert error_code(too_far) == "INSUFFICIENT_BALANCE"


async def test_a_run_is_refunded_once_and_at_most_what_it_cost(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    ann, admin = await login(http, "ann"), await login(http, "farm-admin")
    run_id = (await gql(http, "mutation { startMotor(minutes: 5) { id } }", token=ann))["data"][
        "startMotor"
    ]["id"]
    clock.advance(90)
    await gql(http, "mutation { stopMotor { id } }", token=ann)

    too_much = await gql(http, REFUND, {"r": run_id, "s": 91}, token=admin)
    refunded = await gql(http, REFUND, {"r": run_id, "s": 90}, token=admin)
    twice = await gql(http, REFUND, {"r": run_id, "s": 30}, token=admin)
    ledger = await gql(http, "{ ledger { kind seconds } }", token=ann)

    assert error_code(too_much) == "BAD_USER_INPUT"
    assert refunded["data"]["refundRun"] == {"kind": "REFUND", "seconds": 90, "balanceAfter": 600}
    assert error_code(twice) == "CONFLICT"
    assert [entry["kind"] for entry in ledger["data"]["ledger"]] == ["REFUND", "DEBIT", "RECHARGE"]
