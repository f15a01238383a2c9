"""A server killed with SIGKILL mid-run and started again: the run carries on, and the
charge covers exactly the time it ran, once.

Real processes and the real clock: the run lasts a few real seconds.
"""

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.process import demo_server, free_port

START = "mutation { startMotor(minutes: 5) { status } }"
STOP = "mutation { stopMotor { status chargedSeconds secondsRun } }"


def gql(client: httpx.Client, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = client.post("/graphql", json={"query": query}, headers=headers).json()
    assert "errors" not in body, body
    return body["data"]


def sign_in(client: httpx.Client, credentials: dict[str, Any], name: str) -> str:
    password = credentials["passwords"][name]
    query = f'mutation {{ login(identifier: "{name}", password: "{password}") {{ token }} }}'
    token: str = gql(client, query)["login"]["token"]
    return token


def poll(client: httpx.Client, farm: dict[str, str]) -> dict[str, Any]:
    answer = client.get(
        "/api/esp32/poll",
        params={"adminId": farm["admin_id"], "deviceId": "pump-1"},
        headers={"authorization": f"Bearer {farm['device_key']}"},
    )
    body: dict[str, Any] = answer.json()
    return body


def test_a_run_survives_a_sigkill_and_is_charged_once(tmp_path: Path):
    data_dir, port = tmp_path / "data", free_port()

    with demo_server(data_dir, port) as first:
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        farm = credentials["tenants"]["rahim"]
        token = sign_in(first.client, credentials, "amina")
        before = gql(first.client, "{ wallet { balanceSeconds } }", token)["wallet"]
        poll(first.client, farm)
        started_at = time.monotonic()
        gql(first.client, START, token)
        assert poll(first.client, farm)["motor"] == "ON"
        time.sleep(1.5)
        first.kill()

    with demo_server(data_dir, port) as second:
        # The board's lease outlived the outage, so the motor ran on and the run did too.
        after_restart = poll(second.client, farm)
        stopped = gql(second.client, STOP, token)["stopMotor"]
        elapsed = time.monotonic() - started_at
        wallet = gql(second.client, "{ wallet { balanceSeconds } }", token)["wallet"]
        ledger = gql(second.client, "{ ledger(limit: 10) { kind seconds } }", token)["ledger"]
        usage = gql(second.client, "{ usageHistory { chargedSeconds } }", token)["usageHistory"]

    assert after_restart["motor"] == "ON"
    assert stopped["status"] == "DONE"
    assert int(elapsed) - 1 <= stopped["chargedSeconds"] <= int(elapsed) + 1
    assert wallet["balanceSeconds"] == before["balanceSeconds"] - stopped["chargedSeconds"]
    assert [entry for entry in ledger if entry["kind"] == "DEBIT"] == [
        {"kind": "DEBIT", "seconds": -stopped["chargedSeconds"]}
    ]
    assert usage == [{"chargedSeconds": stopped["chargedSeconds"]}]
