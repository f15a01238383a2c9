"""The Starlette application: routes, JSON errors and the store's lifetime."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from pumppilot import events
from pumppilot.api.body_limit import TOO_LARGE, BodyLimit
from pumppilot.api.device.poll import PollEndpoint
from pumppilot.api.device.responses import device_failure
from pumppilot.api.device.scan import scan_endpoint
from pumppilot.api.graphql.schema import schema
from pumppilot.api.graphql.view import GraphQLView, json_error
from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock, SystemClock
from pumppilot.config import Settings, resolve_token_secret
from pumppilot.engines import timer
from pumppilot.events import EventBus, InMemoryBus
from pumppilot.events.redis_bus import RedisBus
from pumppilot.live.watch import Watches
from pumppilot.presence import presence, use_presence
from pumppilot.runtime import Runtime
from pumppilot.store import open_store

log = logging.getLogger(__name__)

DEVICE_PREFIX = "/api/esp32/"
# GraphQL documents are limited to 2,000 tokens; nothing legitimate comes near this.
MAX_BODY_BYTES = 64 * 1024
# Streams re-check callers every 30 s (streams.py); a nudge this often keeps them close to it.
SWEEP_SECONDS = 10.0


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    """Build the app; the store opens when the app starts and closes when it stops."""
    clock = clock or SystemClock()
    signer = TokenSigner(
        resolve_token_secret(settings),
        settings.access_ttl_seconds,
        clock,
        previous=tuple(settings.token_previous_secrets),
    )
    runtime = Runtime(settings=settings, clock=clock, signer=signer)
    graphql = GraphQLView(schema, runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store(settings)
        app.state.store = store
        bus = await _open_bus(settings)
        events.use_bus(bus)
        # What the other workers (or this one before a restart) heard, before any poll or
        # tick asks whether a board is online.
        earlier_presence = presence()
        use_presence(runtime.presence)
        await runtime.presence.refresh()
        background = [
            asyncio.create_task(_sweep_forever(runtime.watches)),
            asyncio.create_task(runtime.boards.flush_forever()),
        ]
        if settings.timer_seconds:
            background.append(
                asyncio.create_task(timer.run_forever(settings=settings, clock=clock))
            )
        log.info("PumpPilot ready")
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.boards.close()
            use_presence(earlier_presence)
            await runtime.watches.close()
            if isinstance(bus, RedisBus):
                await bus.close()
            await store.close()

    app = Starlette(
        # The poll first: the router tries routes in order, and polls are most requests.
        routes=[
            Route("/api/esp32/poll", PollEndpoint(), methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/api/esp32/scan", scan_endpoint, methods=["POST"]),
            Route("/healthz", _health, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        middleware=[Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES, refuse=_too_large)],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app


async def _sweep_forever(watches: Watches) -> None:
    """Wake idle streams to look at the clock, and stop watching forgotten tenants."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        watches.nudge_all()
        await watches.sweep()


async def _open_bus(settings: Settings) -> EventBus:
    if not settings.redis_url:
        return InMemoryBus()
    bus = RedisBus(settings.redis_url)
    await bus.start()
    log.info("events travel over Redis")
    return bus


async def _health(request: Request) -> Response:
    await request.app.state.store.database.command("ping")
    return JSONResponse({"status": "ok"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _from_a_device(request):
        return device_failure("HTTP_ERROR", exc.detail, exc.status_code)
    return json_error(exc.detail, "HTTP_ERROR", exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s", request.url.path, exc_info=exc)
    message = "internal error; it has been logged"
    if _from_a_device(request):
        return device_failure("INTERNAL_SERVER_ERROR", message, 500)
    return json_error(message, "INTERNAL_SERVER_ERROR", 500)


def _too_large(request: Request, message: str) -> Response:
    if _from_a_device(request):
        return device_failure(TOO_LARGE, message, 413)
    return json_error(message, TOO_LARGE, 413)


def _from_a_device(request: Request) -> bool:
    return request.url.path.startswith(DEVICE_PREFIX)
