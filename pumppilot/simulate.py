"""`pumppilot simulate`: a fleet of simulated boards against a running server.

The admin's account registers the boards (`sim-00000`, `sim-00001`, …) through GraphQL,
as an installer would; boards that already exist get a new key. Keys are kept in a file,
so the next run reuses them without registering again. Then every board polls at the
interval, with a live progress line, and a summary is printed at the end.
"""

import asyncio
import json
import os
import statistics
from pathlib import Path
from typing import Any

import httpx
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from pumppilot.fleet import FleetFigures, SimulatedBoard, run_fleet

REGISTER = "mutation($d: String!) { registerDevice(deviceId: $d, name: $d) { key } }"
ROTATE = "mutation($d: String!) { rotateDeviceKey(deviceId: $d) { key } }"
LOGIN = "mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }"
# Registrations in flight at once; more only queues them up on the server.
REGISTERING = 8
MIN_FOR_QUANTILES = 2


class SimulationError(Exception):
    """The server refused something the simulation needs; the message says what."""


async def provision(
    url: str, identifier: str, password: str, count: int, keys_file: Path
) -> list[SimulatedBoard]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        token = (await _graphql(client, LOGIN, {"i": identifier, "p": password}))["login"]["token"]
        client.headers["authorization"] = f"Bearer {token}"
        admin_id = (await _graphql(client, "{ me { id } }", {}))["me"]["id"]

        kept = _read_keys(keys_file, admin_id)
        wanted = [f"sim-{number:05}" for number in range(count)]
        missing = [device for device in wanted if device not in kept]
        slots = asyncio.Semaphore(REGISTERING)

        async def register(device_id: str) -> None:
            async with slots:
                kept[device_id] = await _key_for(client, device_id)

        await asyncio.gather(*(register(device) for device in missing))
        _write_keys(keys_file, admin_id, kept)
        return [SimulatedBoard(admin_id, device, kept[device]) for device in wanted]


async def simulate(
    url: str, boards: list[SimulatedBoard], *, interval: float, duration: float
) -> FleetFigures:
    expected = int(len(boards) * duration / interval)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} polls"),
        TimeRemainingColumn(),
    )
    with Progress(*columns) as progress:
        task = progress.add_task(f"{len(boards)} boards", total=expected)
        return await run_fleet(
            url,
            boards,
            interval=interval,
            duration=duration,
            on_poll=lambda: progress.advance(task),
        )


def summary(figures: FleetFigures) -> str:
    lines = [
        f"polls {figures.polls}, answered {len(figures.latencies)}, motor ON {figures.motor_on}"
    ]
    if len(figures.latencies) >= MIN_FOR_QUANTILES:
        cuts = statistics.quantiles(figures.latencies, n=100, method="inclusive")
        lines.append(f"latency p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms")
    errors = ", ".join(f"{kind} x{n}" for kind, n in sorted(figures.errors.items()))
    lines.append(f"errors: {errors or 'none'}")
    return "\n".join(lines)


async def _key_for(client: httpx.AsyncClient, device_id: str) -> str:
    try:
        data = await _graphql(client, REGISTER, {"d": device_id})
        key: str = data["registerDevice"]["key"]
    except SimulationError as exc:
        if "CONFLICT" not in str(exc):
            raise
        key = (await _graphql(client, ROTATE, {"d": device_id}))["rotateDeviceKey"]["key"]
    return key


async def _graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, object]
) -> dict[str, Any]:
    try:
        answer = await client.post("/graphql", json={"query": query, "variables": variables})
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SimulationError(f"the server did not answer GraphQL: {exc}") from exc
    if body.get("errors"):
        error = body["errors"][0]
        code = (error.get("extensions") or {}).get("code", "ERROR")
        raise SimulationError(f"{code}: {error.get('message')}")
    data: dict[str, Any] = body["data"]
    return data


def _read_keys(path: Path, admin_id: str) -> dict[str, str]:
    keys = _read_all(path).get(admin_id)
    return dict(keys) if isinstance(keys, dict) else {}


def _read_all(path: Path) -> dict[str, Any]:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def _write_keys(path: Path, admin_id: str, keys: dict[str, str]) -> None:
    """Keep this admin's keys beside the other admins' in the file."""
    everyone = _read_all(path)
    everyone[admin_id] = keys
    path.parent.mkdir(parents=True, exist_ok=True)
    # Device keys are secrets, even simulated ones: the file is the owner's alone from
    # the moment it exists.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(everyone, file)
    path.chmod(0o600)
