"""`pumppilot simulate`: simulated boards register through the admin and poll a server."""

import asyncio
import os
import sys
from pathlib import Path

from starlette.applications import Starlette

from pumppilot.fleet import run_fleet
from pumppilot.simulate import provision
from tests.factories import PASSWORD, Tenant
from tests.live import live_server


async def test_boards_are_registered_once_and_poll_without_errors(
    app: Starlette, tenant: Tenant, tmp_path: Path
):
    keys = tmp_path / "boards.json"

    async with live_server(app) as address:
        url = f"http://{address}"
        boards = await provision(url, "farm-admin", PASSWORD, 3, keys)
        again = await provision(url, "farm-admin", PASSWORD, 3, keys)
        figures = await run_fleet(url, boards, interval=0.5, duration=1.5)

    assert [board.device_id for board in boards] == ["sim-00000", "sim-00001", "sim-00002"]
    assert again == boards
    assert figures.errors == {}
    assert len(figures.latencies) >= 6
    assert oct(keys.stat().st_mode & 0o777) == "0o600"


async def test_two_admins_keep_their_boards_keys_in_one_file(
    app: Starlette, tenant: Tenant, other_tenant: Tenant, tmp_path: Path
):
    keys = tmp_path / "boards.json"

    async with live_server(app) as address:
        url = f"http://{address}"
        farm = await provision(url, "farm-admin", PASSWORD, 2, keys)
        await provision(url, "village-admin", PASSWORD, 2, keys)
        # The farm's boards are not registered again: their keys are still in the file.
        again = await provision(url, "farm-admin", PASSWORD, 2, keys)
        figures = await run_fleet(url, again, interval=0.5, duration=1.0)

    assert again == farm
    assert figures.errors == {}


async def test_the_command_prints_a_summary(app: Starlette, tenant: Tenant, tmp_path: Path):
    async with live_server(app) as address:
        command = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pumppilot",
            "simulate",
            "--devices",
            "2",
            "--interval",
            "0.5",
            "--duration",
            "1.5",
            "--url",
            f"http://{address}",
            "--admin",
            "farm-admin",
            "--keys-file",
            str(tmp_path / "boards.json"),
            env={**os.environ, "PUMPPILOT_SIMULATE_PASSWORD": PASSWORD},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await command.communicate()

    assert command.returncode == 0, errors.decode()
    assert "errors: none" in output.decode()
