"""Abuse limits: oversized documents, batches and password guessing are refused early."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from pumppilot.app import create_app
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from tests.factories import PASSWORD, Tenant
from tests.helpers import error_code, gql, login

LOGIN = "mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }"


async def test_too_many_aliases_are_refused_before_any_resolver_runs(
    http: httpx.AsyncClient, tenant: Tenant
):
    token = await login(http, "ann")
    document = "mutation { " + " ".join(f"a{n}: logout" for n in range(25)) + " }"

    response = await http.post(
        "/graphql", json={"query": document}, headers={"authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400
    assert "aliases" in response.json()["errors"][0]["message"]
    # Had any `logout` resolver run, this token would be dead.
    assert (await gql(http, "{ me { identifier } }", token=token))["data"]["me"]


async def test_a_too_deep_document_is_refused(http: httpx.AsyncClient):
    nested = "".join(f"f{level} {{ " for level in range(10))
    document = "{ queue { active { " + nested + "id" + " }" * 10 + " } } }"

    response = await http.post("/graphql", json={"query": document})

    assert response.status_code == 400
    messages = [error["message"] for error in response.json()["errors"]]
    assert any("exceeds maximum operation depth" in message for message in messages)


async def test_a_document_of_too_many_tokens_is_refused(http: httpx.AsyncClient):
    document = "{ " + " ".join("me { id }" for _ in range(600)) + " }"

    response = await http.post("/graphql", json={"query": document})

    assert response.status_code == 400
    assert error_code(response.json()) == "GRAPHQL_PARSE_FAILED"


async def test_batched_requests_are_refused(http: httpx.AsyncClient):
    response = await http.post("/graphql", json=[{"query": "{ me { id } }"}] * 2)

    assert response.status_code == 400
    assert error_code(response.json()) == "BAD_REQUEST"


async def test_anonymous_callers_get_no_field_suggestions(http: httpx.AsyncClient, tenant: Tenant):
    anonymous = await http.post("/graphql", json={"query": "{ walet { balanceSeconds } }"})
    signed_in = await gql(http, "{ walet { balanceSeconds } }", token=await login(http, "ann"))

    assert "Did you mean" not in anonymous.text
    assert "Did you mean" in signed_in["errors"][0]["message"]


async def test_repeated_failed_logins_are_throttled_with_growing_delays(
    http: httpx.AsyncClient, tenant: Tenant, settings: Settings, clock: ManualClock
):
    codes = [
        error_code(await gql(http, LOGIN, {"i": "ann", "p": f"guess number {n}"}))
        for n in range(settings.login_free_attempts + 1)
    ]
    locked = await gql(http, LOGIN, {"i": "ann", "p": PASSWORD})

    free = settings.login_free_attempts
    assert codes[:free] == ["UNAUTHENTICATED"] * free
    assert codes[-1] in {"UNAUTHENTICATED", "RATE_LIMITED"}
    assert error_code(locked) == "RATE_LIMITED"
    retry_after = locked["errors"][0]["extensions"]["retryAfterSeconds"]
    assert retry_after >= 1

    clock.advance(retry_after)
    assert "token" in (await gql(http, LOGIN, {"i": "ann", "p": PASSWORD}))["data"]["login"]


async def test_throttling_one_identifier_leaves_others_alone(
    http: httpx.AsyncClient, tenant: Tenant, settings: Settings
):
    for n in range(settings.login_free_attempts + 2):
        await gql(http, LOGIN, {"i": "ann", "p": f"guess {n}"})

    assert "token" in (await gql(http, LOGIN, {"i": "bob", "p": PASSWORD}))["data"]["login"]


@pytest.fixture
async def production_http(
    settings: Settings, clock: ManualClock, tenant: Tenant
) -> AsyncIterator[httpx.AsyncClient]:
    """A second app over the same database, with the production flag set."""
    application = create_app(settings.model_copy(update={"production": True}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://prod.test") as client:
            yield client


async def test_introspection_in_production_is_for_admins(production_http: httpx.AsyncClient):
    http = production_http
    query = "{ __schema { queryType { name } } }"

    anonymous = await http.post("/graphql", json={"query": query})
    as_user = await gql(http, query, token=await login(http, "ann"))
    as_admin = await gql(http, query, token=await login(http, "farm-admin"))

    assert error_code(anonymous.json()) == "FORBIDDEN"
    assert error_code(as_user) == "FORBIDDEN"
    assert as_admin["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_guesses_sent_in_parallel_are_throttled_like_serial_ones(
    http: httpx.AsyncClient, tenant: Tenant, settings: Settings
):
    guesses = [gql(http, LOGIN, {"i": "ann", "p": f"parallel guess {n}"}) for n in range(12)]

    codes = [error_code(answer) for answer in await asyncio.gather(*guesses)]
    right_one = await gql(http, LOGIN, {"i": "ann", "p": PASSWORD})

    assert codes.count("UNAUTHENTICATED") <= settings.login_free_attempts + 1
    assert codes.count("RATE_LIMITED") >= 12 - settings.login_free_attempts - 1
    assert error_code(right_one) == "RATE_LIMITED"


async def test_change_password_guesses_are_throttled_and_audited(
    http: httpx.AsyncClient, tenant: Tenant, settings: Settings
):
    token = await login(http, "ann")
    change = (
        "mutation($c: String!) { changePassword(currentPassword: $c, "
        'newPassword: "a brand new sentence") }'
    )

    codes = [
        error_code(await gql(http, change, {"c": f"guess {n}"}, token=token))
        for n in range(settings.login_free_attempts + 2)
    ]
    audit = await gql(
        http, "{ auditLog(limit: 50) { action } }", token=await login(http, "farm-admin")
    )

    assert codes[-1] == "RATE_LIMITED"
    failures = [e for e in audit["data"]["auditLog"] if e["action"] == "PASSWORD_CHANGE_FAILED"]
    assert len(failures) == settings.login_free_attempts + 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"query": "\xff"}', "BAD_REQUEST"),
        (b'{"query": "{ me { id } }", "variables": {"x": "\\ud800"}}', "BAD_REQUEST"),
        (b'{"query": "subscription { queueChanged { version } }"}', "BAD_REQUEST"),
    ],
)
async def test_undecodable_or_misdirected_requests_are_400(
    http: httpx.AsyncClient, body: bytes, code: str
):
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert error_code(response.json()) == code


@pytest.mark.parametrize("path", ["/graphql", "/api/esp32/scan"])
async def test_an_oversized_body_is_refused_before_it_is_read(http: httpx.AsyncClient, path: str):
    response = await http.post(
        path, content=b"{" + b" " * (65 * 1024) + b"}", headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert "PAYLOAD_TOO_LARGE" in response.text


async def test_a_village_behind_one_address_logs_in_at_once(
    http: httpx.AsyncClient, tenant: Tenant, clock: ManualClock
):
    from tests.factories import make_user  # noqa: PLC0415

    names = [f"villager{number:02}" for number in range(30)]
    for name in names:
        await make_user(tenant, name, 0, clock)

    answers = await asyncio.gather(
        *(gql(http, LOGIN, {"i": name, "p": PASSWORD}) for name in names)
    )

    assert all("token" in answer["data"]["login"] for answer in answers)
