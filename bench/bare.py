"""A bare Strawberry app: the baseline the GraphQL and fan-out benchmarks compare against.

It has Strawberry's default settings and nothing of PumpPilot: a hello-world query, and
a `queueChanged` subscription shaped like PumpPilot's, fed from memory. `POST /fire`
sends the next version to every subscriber, as a mutation would on the real service.

    python -m bench.bare --port 8001
"""

import argparse
import asyncio
import gc
from collections.abc import AsyncGenerator

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from pumppilot.cli import GC_YOUNG_THRESHOLD

WAITING = 10


@strawberry.type
class Run:
    id: strawberry.ID
    user_name: str | None
    status: str
    position: int | None
    remaining_seconds: int


@strawberry.type
class Queue:
    version: int
    active: Run | None
    waiting: list[Run]


class Broadcast:
    """Every subscriber's inbox; a full inbox drops its oldest version."""

    def __init__(self) -> None:
        self.inboxes: set[asyncio.Queue[int]] = set()
        self.version = 0

    def fire(self) -> int:
        self.version += 1
        for inbox in self.inboxes:
            if inbox.full():
                inbox.get_nowait()
            inbox.put_nowait(self.version)
        return self.version


broadcast = Broadcast()


def _queue(version: int) -> Queue:
    waiting = [
        Run(
            id=strawberry.ID(f"run-{number}"),
            user_name=None,
            status="WAITING",
            position=number,
            remaining_seconds=0,
        )
        for number in range(1, WAITING + 1)
    ]
    active = Run(
        id=strawberry.ID("run-0"),
        user_name="Someone",
        status="RUNNING",
        position=None,
        remaining_seconds=60,
    )
    return Queue(version=version, active=active, waiting=waiting)


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def queue_changed(self) -> AsyncGenerator[Queue]:
        inbox: asyncio.Queue[int] = asyncio.Queue(maxsize=32)
        broadcast.inboxes.add(inbox)
        try:
            yield _queue(broadcast.version)
            while True:
                yield _queue(await inbox.get())
        finally:
            broadcast.inboxes.discard(inbox)


async def fire(request: Request) -> JSONResponse:
    return JSONResponse({"version": broadcast.fire()})


def create_app() -> Starlette:
    graphql = GraphQL(strawberry.Schema(query=Query, subscription=Subscription))
    return Starlette(
        routes=[
            Route("/fire", fire, methods=["POST"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    # The same process and websocket settings as `pumppilot serve`, so only the GraphQL
    # layer differs.
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    uvicorn.run(
        create_app(),
        port=arguments.port,
        log_level="warning",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
