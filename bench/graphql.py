"""The admin dashboard query against a bare Strawberry hello-world, in one run.

Both apps are driven in this process through ASGI, one request at a time, with no
network and no HTTP client in between, so the figures are the apps' own cost per
request on one core. The dashboard reads a tenant of 50 users: the queue (one run
active, five waiting), every balance, and the board. It runs twice: as the service
runs it, where an answer may be reused within its second until the tenant changes, and
with reuse off, where every request runs its resolvers against the embedded store.

    python -m bench.graphql                 # 5 s per case
    python -m bench.graphql --smoke         # 0.5 s per case
"""

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message

from bench.bare import create_app as create_bare_app
from bench.measure import quantile
from bench.serving import seeded_store
from pumppilot.app import create_app
from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import SystemClock
from pumppilot.config import Settings, resolve_token_secret
from pumppilot.engines import accounts, queue
from pumppilot.models import ClientKind
from tests.factories import make_tenant

USERS = 50
QUEUED = 6
DASHBOARD = """{
  queue { version active { id userName status remainingSeconds }
          waiting { id position userName requestedMinutes } }
  users { id name identifier balanceSeconds suspended }
  devices { deviceId online lastSeenAt loadShedding ready outputOn }
}"""


def _request(app: ASGIApp, body: bytes, token: str | None) -> Callable[[], Awaitable[bytes]]:
    headers = [(b"content-type", b"application/json"), (b"host", b"bench")]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def send_one() -> bytes:
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, send)
        return b"".join(chunks)

    return send_one


async def _rate(send_one: Callable[[], Awaitable[bytes]], seconds: float) -> tuple[float, float]:
    """Requests per second and p99 latency in milliseconds, one request at a time."""
    answer = json.loads(await send_one())
    if answer.get("errors"):
        raise RuntimeError(f"the request failed: {answer['errors']}")

    latencies: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        before = time.perf_counter()
        await send_one()
        latencies.append(time.perf_counter() - before)
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, quantile(latencies, 99) * 1000


async def _seed(settings: Settings) -> str:
    clock = SystemClock()
    names = [f"user{number:02}" for number in range(USERS)]
    tenant = await make_tenant("bench", clock, balances=dict.fromkeys(names, 60))
    for name in names[:QUEUED]:
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id(name),
            minutes=30,
            settings=settings,
            clock=clock,
        )
    signer = TokenSigner(resolve_token_secret(settings), settings.access_ttl_seconds, clock)
    signed_in = await accounts.open_session(
        tenant.admin, ClientKind.WEB, signer=signer, settings=settings, clock=clock
    )
    return signed_in.access_token


async def main(seconds: float) -> None:
    hello = json.dumps({"query": "{ hello }"}).encode()
    dashboard = json.dumps({"query": DASHBOARD}).encode()
    figures: dict[str, tuple[float, float]] = {}

    figures["hello-world, bare Strawberry"] = await _rate(
        _request(create_bare_app(), hello, None), seconds
    )
    async with seeded_store(sqlite=False) as settings:
        token = await _seed(settings)
        for name, reuse in (("dashboard, PumpPilot", True), ("dashboard, reuse off", False)):
            app = create_app(settings.model_copy(update={"reuse_answers": reuse}))
            async with app.router.lifespan_context(app):
                figures[name] = await _rate(_request(app, dashboard, token), seconds)

    print(f"GraphQL bench ({USERS} users, {seconds:g} s per case, one request at a time)")
    for name, (rate, p99) in figures.items():
        print(f"  {name:32} {rate:8.0f} requests/s   p99 {p99:7.2f} ms")
    baseline = figures["hello-world, bare Strawberry"][0]
    ratio = figures["dashboard, PumpPilot"][0] / baseline
    print(f"  dashboard rate / hello-world rate   {ratio:5.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--smoke", action="store_true", help="a short run that checks the bench")
    arguments = parser.parse_args()
    asyncio.run(main(0.5 if arguments.smoke else arguments.seconds))
