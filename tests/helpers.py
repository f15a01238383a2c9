"""Helpers that keep each test down to what it checks."""

from typing import Any

import httpx

from tests.factories import PASSWORD


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """POST a GraphQL document and return the decoded body (any status)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str:
    errors = body.get("errors") or []
    assert errors, f"expected an error, got {body}"
    code: str = errors[0]["extensions"]["code"]
    return code


async def login(http: httpx.AsyncClient, identifier: str, password: str = PASSWORD) -> str:
    body = await gql(
        http,
        "mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }",
        {"i": identifier, "p": password},
    )
    assert "errors" not in body, body
    token: str = body["data"]["login"]["token"]
    return token


async def poll(
    http: httpx.AsyncClient, admin_id: object, device_id: str, key: str | None, **report: str
) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    params = {"adminId": str(admin_id), "deviceId": device_id, **report}
    return await http.get("/api/esp32/poll", params=params, headers=headers)


async def scan(
    http: httpx.AsyncClient, admin_id: object, device_id: str, key: str | None, card: str
) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    body = {"adminId": str(admin_id), "deviceId": device_id, "cardId": card}
    return await http.post("/api/esp32/scan", json=body, headers=headers)
