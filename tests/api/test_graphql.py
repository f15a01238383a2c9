"""The GraphQL endpoint over HTTP: the walking skeleton, refusals and error codes."""

import httpx
import pytest

from pumppilot.clock import ManualClock
from tests.factories import MASTER_IDENTIFIER, Tenant, master_caller
from tests.helpers import error_code, gql, login

START = "mutation($m: Int!) { startMotor(minutes: $m) { id status position remainingSeconds } }"
STOP = "mutation { stopMotor { status secondsRun chargedSeconds endReason } }"
WALLET = "{ wallet { balanceSeconds balanceMinutes } }"


async def test_user_starts_runs_and_stops_and_is_charged(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    token = await login(http, "ann")

    started = await gql(http, START, {"m": 5}, token=token)
    clock.advance(125)
    stopped = await gql(http, STOP, token=token)
    wallet = await gql(http, WALLET, token=token)

    assert started["data"]["startMotor"]["status"] == "RUNNING"
    assert started["data"]["startMotor"]["remainingSeconds"] == 300
    assert stopped["data"]["stopMotor"] == {
        "status": "DONE",
        "secondsRun": 125,
        "chargedSeconds": 125,
        "endReason": "STOPPED_BY_USER",
    }
    assert wallet["data"]["wallet"] == {"balanceSeconds": 475, "balanceMinutes": 7.92}


async def test_queue_shows_positions_and_hides_other_users_names(
    http: httpx.AsyncClient, tenant: Tenant
):
    ann, bob = await login(http, "ann"), await login(http, "bob")
    await gql(http, START, {"m": 5}, token=ann)
    waiting = await gql(http, START, {"m": 5}, token=bob)

    seen_by_bob = await gql(
        http, "{ queue { active { userName } waiting { userName position } } }", token=bob
    )
    seen_by_admin = await gql(
        http, "{ queue { active { userName } } }", token=await login(http, "farm-admin")
    )

    assert waiting["data"]["startMotor"]["position"] == 1
    assert seen_by_bob["data"]["queue"] == {
        "active": {"userName": None},
        "waiting": [{"userName": "Bob", "position": 1}],
    }
    assert seen_by_admin["data"]["queue"]["active"]["userName"] == "Ann"


async def test_me_names_the_signed_in_account(http: httpx.AsyncClient, tenant: Tenant):
    body = await gql(http, "{ me { identifier role tenantId } }", token=await login(http, "bob"))

    assert body["data"]["me"] == {"identifier": "bob", "role": "USER", "tenantId": str(tenant.id)}


async def test_logout_ends_the_token(http: httpx.AsyncClient, tenant: Tenant):
    token = await login(http, "ann")

    assert (await gql(http, "mutation { logout }", token=token))["data"] == {"logout": True}
    assert error_code(await gql(http, WALLET, token=token)) == "UNAUTHENTICATED"


async def test_calls_without_a_token_are_unauthenticated(http: httpx.AsyncClient, tenant: Tenant):
    for document in (WALLET, STOP, "{ me { id } }", "{ queue { version } }"):
        assert error_code(await gql(http, document)) == "UNAUTHENTICATED"


async def test_an_admin_cannot_start_the_motor_as_a_user(http: httpx.AsyncClient, tenant: Tenant):
    token = await login(http, "farm-admin")

    assert error_code(await gql(http, START, {"m": 5}, token=token)) == "FORBIDDEN"
    assert error_code(await gql(http, WALLET, token=token)) == "FORBIDDEN"


async def test_another_tenants_queue_reads_as_not_found(
    http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant
):
    token = await login(http, "ann")
    query = "query($t: ID) { queue(tenantId: $t) { tenantId } }"

    assert (
        error_code(await gql(http, query, {"t": str(other_tenant.id)}, token=token)) == "NOT_FOUND"
    )
    assert error_code(await gql(http, query, {"t": "not-an-id"}, token=token)) == "NOT_FOUND"


async def test_the_master_reads_a_named_tenants_queue(
    http: httpx.AsyncClient, tenant: Tenant, clock
):
    await master_caller(clock)
    token = await login(http, MASTER_IDENTIFIER)
    query = "query($t: ID) { queue(tenantId: $t) { tenantId } }"

    named = await gql(http, query, {"t": str(tenant.id)}, token=token)
    unnamed = await gql(http, query, token=token)

    assert named["data"]["queue"]["tenantId"] == str(tenant.id)
    assert error_code(unnamed) == "BAD_USER_INPUT"


async def test_domain_errors_carry_their_codes(http: httpx.AsyncClient, tenant: Tenant):
    broke, rich = await login(http, "cat"), await login(http, "ann")

    assert error_code(await gql(http, START, {"m": 5}, token=broke)) == "INSUFFICIENT_BALANCE"
    assert error_code(await gql(http, START, {"m": 0}, token=rich)) == "BAD_USER_INPUT"
    assert error_code(await gql(http, STOP, token=rich)) == "NOT_FOUND"


async def test_wrong_password_is_unauthenticated(http: httpx.AsyncClient, tenant: Tenant):
    body = await gql(http, 'mutation { login(identifier: "ann", password: "nope-nope") { token } }')

    assert error_code(body) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "BAD_REQUEST"),
        (b'{"query": "{ wallet { "}', "GRAPHQL_PARSE_FAILED"),
        (b'{"query": "{ noSuchField }"}', "GRAPHQL_VALIDATION_FAILED"),
        (
            b'{"query": "mutation($m: Int!) { startMotor(minutes: $m) { id } }", '
            b'"variables": {"m": "five"}}',
            "BAD_USER_INPUT",
        ),
        (b'{"variables": {}}', "BAD_REQUEST"),
    ],
)
async def test_a_bad_request_is_a_json_400(http: httpx.AsyncClient, body: bytes, code: str):
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response.json()) == code
    assert "Traceback" not in response.text


async def test_unknown_paths_answer_json(http: httpx.AsyncClient):
    response = await http.get("/no/such/path")

    assert response.status_code == 404
    assert error_code(response.json()) == "HTTP_ERROR"


async def test_graphiql_is_served(http: httpx.AsyncClient):
    response = await http.get("/graphql", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
