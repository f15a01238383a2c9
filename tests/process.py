"""Running `pumppilot demo` as a real process, for end-to-end and restart tests."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as redis

from pumppilot.config import Settings, load_settings
from pumppilot.store import open_store

SECRET = "s" * 40

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DemoServer:
    client: httpx.Client
    process: subprocess.Popen[str]
    output: str = ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when power or the OOM killer strikes."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def demo_server(data_dir: Path, port: int) -> Iterator[DemoServer]:
    """Run `pumppilot demo`, wait until it answers, and stop it cleanly afterwards.

    What the command printed is in `output` once the block has ended.
    """
    environment = {**os.environ, "PUMPPILOT_DATA_DIR": str(data_dir), "PUMPPILOT_PORT": str(port)}
    environment.pop("MONGODB_URI", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pumppilot", "demo"],
        env=environment,
        cwd=data_dir.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    server = DemoServer(httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10), process)
    try:
        _wait_until_up(server.client, process)
        yield server
    finally:
        server.client.close()
        if process.poll() is None:
            process.terminate()
        server.output, _ = process.communicate(timeout=30)


def _wait_until_up(client: httpx.Client, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the demo server exited during start-up"
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the demo server did not answer within a minute")


@contextmanager
def running(arguments: list[str], environment: dict[str, str], cwd: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pumppilot", *arguments],
        env=environment,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


async def wait_until_up(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(STARTUP_SECONDS * 10):
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@asynccontextmanager
async def shared_store(tmp_path: Path) -> AsyncIterator[tuple[str, Settings]]:
    port = free_port()
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    environment = {**os.environ, "PUMPPILOT_DATA_DIR": str(tmp_path)}
    with running(["store", "--memory", "--port", str(port)], environment, tmp_path):
        settings = load_settings(
            mongodb_uri=uri,
            database="storm",
            data_dir=tmp_path,
            token_secret=SECRET,
            offline_after_seconds=7 * 24 * 3600,
            timer_seconds=0,
        )
        for _ in range(STARTUP_SECONDS * 10):
            try:
                store = await open_store(settings)
                break
            except Exception:  # the store process may still be starting
                await asyncio.sleep(0.1)
        try:
            yield uri, settings
        finally:
            await store.close()


@asynccontextmanager
async def workers(uri: str, tmp_path: Path, count: int, **extra: str) -> AsyncIterator[list[str]]:
    """API worker processes over a shared store; `extra` adds environment variables."""
    ports = [free_port() for _ in range(count)]
    with contextlib.ExitStack() as stack:
        for port in ports:
            environment = {
                **os.environ,
                "MONGODB_URI": uri,
                "PUMPPILOT_DATABASE": "storm",
                "PUMPPILOT_TOKEN_SECRET": SECRET,
                "PUMPPILOT_PORT": str(port),
                "PUMPPILOT_TIMER_SECONDS": "0",
                "PUMPPILOT_OFFLINE_AFTER_SECONDS": str(7 * 24 * 3600),
                "PUMPPILOT_LOG_LEVEL": "WARNING",
                **extra,
            }
            stack.enter_context(running(["serve"], environment, tmp_path))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            await wait_until_up(f"{base}/healthz")
        yield bases


async def redis_reachable(url: str) -> bool:
    client = redis.from_url(url)
    try:
        return bool(await client.ping())
    except redis.ConnectionError:
        return False
    finally:
        await client.aclose()


async def worker_login(client: httpx.AsyncClient, base: str, name: str, password: str) -> str:
    query = f'mutation {{ login(identifier: "{name}", password: "{password}") {{ token }} }}'
    body = (await client.post(f"{base}/graphql", json={"query": query})).json()
    token: str = body["data"]["login"]["token"]
    return token
