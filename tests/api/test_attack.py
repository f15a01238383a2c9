"""Every field of the exported schema, attacked from another tenant and from the wrong role.

For each field, an admin and a user of tenant B call it with tenant A's ids wherever an
argument takes an ID, and a user calls it wherever it is not theirs to call. Each call
must be refused with the right code, show nothing of tenant A, and leave tenant A's data
exactly as it was.
"""

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import queue
from tests.api.attack import Attack, attacks_on, fields
from tests.factories import PASSWORD, Tenant, make_tenant
from tests.helpers import login
from tests.live import graphql_socket, live_server

VICTIM_COLLECTIONS = (
    "users",
    "queues",
    "wallet_ledger",
    "usage_history",
    "devices",
    "minute_requests",
    "mobile_sessions",
)
# Who attacks, with their role: tenant B's admin and user, and tenant A's own user, who
# may touch A's data where the user role is allowed but nowhere else.
ATTACKERS = (("village-admin", "ADMIN"), ("zed", "USER"), ("ann", "USER"))


@dataclass
class Battlefield:
    victim: Tenant
    victim_ids: list[str]
    markers: frozenset[str]


@pytest.fixture
async def battlefield(app: Starlette, clock: ManualClock, settings: Settings) -> Battlefield:
    victim = await make_tenant(
        "farm", clock, balances={"ann": 10, "bob": 10, "cat": 0}, cards={"bob": "B0B"}
    )
    await make_tenant("village", clock, balances={"zed": 10, "yan": 10})
    running = await queue.start_run(
        tenant_id=victim.id,
        user_id=victim.user_id("ann"),
        minutes=5,
        settings=settings,
        clock=clock,
    )
    waiting = await queue.start_run(
        tenant_id=victim.id,
        user_id=victim.user_id("bob"),
        minutes=5,
        settings=settings,
        clock=clock,
    )

    ids = [str(victim.id), *(str(user.id) for user in victim.users.values())]
    ids += [str(running.id), str(waiting.id)]
    names = {"ann", "bob", "cat", "Ann", "Bob", "Cat", "farm-admin", "farm admin", "B0B"}
    return Battlefield(victim, ids, frozenset({*ids, *names, victim.device_key}))


@pytest.mark.parametrize(("root", "name"), fields(), ids=str)
async def test_no_field_reaches_another_tenant_or_a_role_above_the_callers(
    app: Starlette, http: httpx.AsyncClient, battlefield: Battlefield, root: str, name: str
):
    for attack in attacks_on(root, name, battlefield.victim_ids):
        for attacker, role in ATTACKERS:
            own_tenant = attacker == "ann"
            if own_tenant and (attack.roles is None or role in attack.roles):
                continue  # A's own user acting within its role is not an attack.

            token = await login(http, attacker)
            before = await _victim_state(app, battlefield.victim)
            answer = await _call(app, http, attack, token)
            after = await _victim_state(app, battlefield.victim)
            where = f"{attack.label} as {attacker}"

            code = _error_code(answer)
            if attack.roles is not None and role not in attack.roles:
                assert code == "FORBIDDEN", f"{where}: {answer}"
            elif attack.names_victim:
                assert code == "NOT_FOUND", f"{where}: {answer}"
            leaked = _strings(answer) & battlefield.markers
            assert not leaked, f"{where} leaked {leaked}"
            assert after == before, f"{where} changed tenant A's data"


async def _call(
    app: Starlette, http: httpx.AsyncClient, attack: Attack, token: str
) -> dict[str, Any]:
    if attack.root != "Subscription":
        response = await http.post(
            "/graphql",
            json={"query": attack.document, "variables": attack.variables},
            headers={"authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        return body

    async with live_server(app) as address, graphql_socket(address) as socket:
        await socket.init(token)
        await socket.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": attack.document, "variables": attack.variables},
            }
        )
        message = await socket.receive()
    if message["type"] == "error":
        return {"errors": message["payload"]}
    payload: dict[str, Any] = message["payload"]
    return payload


def _error_code(answer: dict[str, Any]) -> str | None:
    errors = answer.get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


def _strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(item) for item in value)) if value else set()
    return set()


async def _victim_state(app: Starlette, victim: Tenant) -> dict[str, Any]:
    database = app.state.store.database
    state: dict[str, Any] = {"admin": await database.admins.find_one({"_id": victim.id})}
    for name in VICTIM_COLLECTIONS:
        state[name] = await database[name].find({"admin_id": victim.id}).sort("_id").to_list()
    return state


def test_every_field_is_attacked():
    # The suite reads the exported schema, so a new field gets attacked with no edit here.
    assert ("Mutation", "recharge") in fields()
    assert {root for root, _ in fields()} == {"Query", "Mutation", "Subscription"}
    assert PASSWORD  # the attackers log in with the factories' password
