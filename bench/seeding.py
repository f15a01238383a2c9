"""Seeding benchmark tenants straight into the store, faster than through logins."""

from dataclasses import dataclass

from pumppilot.auth.passwords import hash_password
from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import SystemClock
from pumppilot.config import Settings, resolve_token_secret
from pumppilot.engines import accounts, queue
from pumppilot.models import ClientKind, User
from tests.factories import PASSWORD, Tenant, make_tenant


@dataclass
class SeededQueue:
    tenant: Tenant
    trigger_token: str


def _signer(settings: Settings) -> TokenSigner:
    return TokenSigner(resolve_token_secret(settings), settings.access_ttl_seconds, SystemClock())


async def seed_queue(settings: Settings, *, waiting: int) -> SeededQueue:
    """A tenant with one run active, `waiting` more queued, and a user free to trigger."""
    clock = SystemClock()
    queued = [f"queued{number:02}" for number in range(waiting + 1)]
    tenant = await make_tenant("bench", clock, balances=dict.fromkeys([*queued, "trigger"], 600))
    for name in queued:
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id(name),
            minutes=600,
            settings=settings,
            clock=clock,
        )

    signed_in = await accounts.open_session(
        tenant.users["trigger"],
        ClientKind.WEB,
        signer=_signer(settings),
        settings=settings,
        clock=clock,
    )
    return SeededQueue(tenant=tenant, trigger_token=signed_in.access_token)


async def bench_tokens(settings: Settings, tenant: Tenant, count: int) -> list[str | None]:
    """`count` more users of the tenant, each signed in once from a phone."""
    clock = SystemClock()
    # One hash serves every bench user: hashing a thousand would take most of a minute.
    hashed = await hash_password(PASSWORD)
    users = [
        User(
            admin_id=tenant.id,
            identifier=f"listener{number:05}",
            name=f"Listener {number}",
            password_hash=hashed,
            created_at=clock.now(),
        )
        for number in range(count)
    ]
    await User.insert_many(users)

    signer = _signer(settings)
    tokens: list[str | None] = []
    for user in await User.find({"identifier": {"$regex": "^listener"}}).to_list():
        signed_in = await accounts.open_session(
            user, ClientKind.MOBILE, signer=signer, settings=settings, clock=clock
        )
        tokens.append(signed_in.access_token)
    return tokens
