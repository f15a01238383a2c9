"""A real uvicorn server for the app under test, and a graphql-transport-ws client."""

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

PROTOCOL = "graphql-transport-ws"
MESSAGE_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def live_server(app: Starlette) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs (the `app` fixture) on a loopback port."""
    port = free_port()
    config = uvicorn.Config(
        app,
        port=port,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


class GraphQLSocket:
    """One graphql-transport-ws connection, driven a message at a time."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout=MESSAGE_TIMEOUT)
        message: dict[str, Any] = json.loads(raw)
        return message

    async def init(self, token: str | None) -> dict[str, Any]:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, query: str, operation_id: str = "1") -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query}})

    async def payload_where(
        self, field: str, matches: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The first `field` value that `matches`; streams may send other states first."""
        for _ in range(10):
            data: dict[str, Any] = (await self.next_payload())["data"][field]
            if matches(data):
                return data
        raise AssertionError(f"no {field} update matched")

    async def next_payload(self) -> dict[str, Any]:
        """The next `next` message's payload; fails on anything else."""
        message = await self.receive()
        assert message["type"] == "next", message
        payload: dict[str, Any] = message["payload"]
        return payload


@asynccontextmanager
async def graphql_socket(
    address: str, subprotocols: tuple[str, ...] = (PROTOCOL,)
) -> AsyncIterator[GraphQLSocket]:
    offered = [Subprotocol(protocol) for protocol in subprotocols]
    async with connect(f"ws://{address}/graphql", subprotocols=offered) as ws:
        yield GraphQLSocket(ws)


def stream_error_code(message: dict[str, Any]) -> str:
    """The code of a stream that failed: as an `error` message or a `next` with errors."""
    if message["type"] == "error":
        errors = message["payload"]
    else:
        assert message["type"] == "next", message
        errors = message["payload"]["errors"]
    code: str = errors[0]["extensions"]["code"]
    return code
