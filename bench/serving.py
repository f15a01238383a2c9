"""Shared set-up for benchmarks: the app on a loopback port over an embedded store."""

import asyncio
import contextlib
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from pumppilot.app import create_app
from pumppilot.clock import SystemClock
from pumppilot.config import Settings, load_settings
from pumppilot.store import EmbeddedStore, open_store


@dataclass
class Served:
    base_url: str
    settings: Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def seeded_store(*, sqlite: bool) -> AsyncIterator[Settings]:
    """An embedded store with Beanie ready, for the caller to seed; yields its settings."""
    with tempfile.TemporaryDirectory() as scratch:
        embedded = EmbeddedStore(Path(scratch) / "bench.sqlite" if sqlite else None)
        uri = embedded.start()
        settings = load_settings(
            mongodb_uri=uri, data_dir=Path(scratch), token_secret="b" * 40, log_level="WARNING"
        )
        store = await open_store(settings)
        try:
            yield settings
        finally:
            await store.client.close()
            embedded.stop()


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """Run the app with uvicorn in this event loop; yields its base URL."""
    port = free_port()
    app = create_app(settings, clock=SystemClock())
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    # uvicorn offers only a flag to say it is listening, not an event to wait on.
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
