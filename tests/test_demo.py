"""The README's first command, end to end: a real server process on the embedded store.

This is the one place tests use the real clock: the server runs as its own process, so
the run below lasts a real second to have something to charge.
"""

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.process import demo_server, free_port


def gql(client: httpx.Client, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = client.post("/graphql", json={"query": query}, headers=headers).json()
    assert "errors" not in body, body
    return body["data"]


def login(client: httpx.Client, identifier: str, password: str) -> str:
    query = f'mutation {{ login(identifier: "{identifier}", password: "{password}") {{ token }} }}'
    token: str = gql(client, query)["login"]["token"]
    return token


def poll(client: httpx.Client, tenant: dict[str, str]) -> str:
    answer = client.get(
        "/api/esp32/poll",
        params={"adminId": tenant["admin_id"], "deviceId": "pump-1"},
        headers={"authorization": f"Bearer {tenant['device_key']}"},
    )
    assert answer.status_code == 200, answer.text
    motor: str = answer.json()["motor"]
    return motor


def test_demo_serves_the_whole_loop_and_keeps_data_across_a_restart(tmp_path: Path):
    data_dir = tmp_path / "data"
    port = free_port()

    with demo_server(data_dir, port) as first:
        client = first.client
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        farm = credentials["tenants"]["rahim"]
        token = login(client, "amina", credentials["passwords"]["amina"])

        before = gql(client, "{ wallet { balanceSeconds } }", token)["wallet"]["balanceSeconds"]
        gql(client, "mutation { startMotor(minutes: 5) { status } }", token)
        on = poll(client, farm)
        time.sleep(1.2)
        stopped = gql(client, "mutation { stopMotor { chargedSeconds } }", token)["stopMotor"]
        off = poll(client, farm)
        after = gql(client, "{ wallet { balanceSeconds } }", token)["wallet"]["balanceSeconds"]

    printed = first.output
    assert (on, off) == ("ON", "OFF")
    assert stopped["chargedSeconds"] >= 1
    assert after == before - stopped["chargedSeconds"]
    assert f"http://127.0.0.1:{port}/graphql" in printed
    assert f"/api/esp32/poll?adminId={farm['admin_id']}&deviceId=pump-1" in printed
    assert credentials["passwords"]["amina"] in printed

    with demo_server(data_dir, port) as second:
        client = second.client
        token = login(client, "amina", credentials["passwords"]["amina"])
        again = gql(client, "{ wallet { balanceSeconds } }", token)["wallet"]["balanceSeconds"]
        admin = login(client, "rahim", credentials["passwords"]["rahim"])
        queue = gql(client, "{ queue { active { id } waiting { id } } }", admin)["queue"]
        polled = poll(client, farm)

    assert again == after
    assert queue == {"active": None, "waiting": []}
    assert polled == "OFF"
