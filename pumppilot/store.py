"""Reaching MongoDB: a real server from `MONGODB_URI`, or the embedded wire store.

Either way the service talks to it through pymongo's async client over the wire, so the
code that runs in development and tests is the code that runs in production.
"""

import asyncio
import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from pumppilot.config import Settings
from pumppilot.migrations import migrate
from pumppilot.models import DOCUMENT_MODELS

log = logging.getLogger(__name__)

EMBEDDED_FILE = "pumppilot.sqlite"
START_TIMEOUT_SECONDS = 30


class EmbeddedStore:
    """A mongoeco wire server on a loopback port, in its own thread and event loop.

    Its own loop keeps the store serving while the app's loop is busy, and lets tests
    share one store across many app instances, each with its own event loop.
    """

    def __init__(self, sqlite_path: Path | None = None, *, port: int = 0) -> None:
        self._sqlite_path = sqlite_path
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self.uri = ""

    def start(self) -> str:
        started: Future[str] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="embedded-store", daemon=True
        )
        self._thread.start()
        self.uri = started.result(timeout=START_TIMEOUT_SECONDS)
        where = self._sqlite_path or "memory"
        log.info("embedded store serving %s at %s", where, self.uri)
        return self.uri

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return

        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=START_TIMEOUT_SECONDS)
        self._loop = None
        self._thread = None

    def _serve(self, started: Future[str]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            address = loop.run_until_complete(self._open())
            started.set_result(address)
        except BaseException as exc:
            started.set_exception(exc)
            loop.close()
            return

        loop.run_forever()
        loop.run_until_complete(self._server.close())
        loop.close()

    async def _open(self) -> str:
        # Imported here: the wire extra is only needed when the embedded store runs.
        from mongoeco.engines.memory import MemoryEngine  # noqa: PLC0415
        from mongoeco.engines.sqlite import SQLiteEngine  # noqa: PLC0415
        from mongoeco.wire import AsyncMongoEcoProxyServer  # noqa: PLC0415

        if self._sqlite_path is None:
            engine: Any = MemoryEngine()
        else:
            self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            engine = SQLiteEngine(str(self._sqlite_path))

        self._server = AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=self._port)
        address = await self._server.start()
        return str(address.uri)


@dataclass
class Store:
    """An open connection with Beanie initialised over it."""

    client: AsyncMongoClient[dict[str, Any]]
    database: AsyncDatabase[dict[str, Any]]
    embedded: EmbeddedStore | None

    async def close(self) -> None:
        await self.client.close()
        if self.embedded is not None:
            self.embedded.stop()


async def open_store(settings: Settings) -> Store:
    """Connect to the configured server (starting the embedded one if none is set)."""
    embedded = None
    uri = settings.mongodb_uri
    if not uri:
        embedded = EmbeddedStore(settings.data_dir / EMBEDDED_FILE)
        uri = embedded.start()

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    database = client[settings.database]
    try:
        await migrate(database)
        await init_beanie(database=database, document_models=list(DOCUMENT_MODELS))
    except BaseException:
        await client.close()
        if embedded is not None:
            embedded.stop()
        raise

    return Store(client=client, database=database, embedded=embedded)
