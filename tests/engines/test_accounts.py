"""Login, sessions, tokens and the caller behind them."""

import jwt
import pytest

from pumppilot.auth.passwords import hash_password
from pumppilot.auth.tokens import AUDIENCE, ISSUER, TokenSigner, key_id
from pumppilot.clock import ManualClock
from pumppilot.config import Settings
from pumppilot.engines import accounts
from pumppilot.engines.accounts import SignedIn
from pumppilot.errors import BadUserInput, Conflict, Suspended, Unauthenticated
from pumppilot.models import ClientKind, Role, User
from tests.factories import PASSWORD, Tenant, master_caller

SECRET = "s" * 40


@pytest.fixture
def signer(clock: ManualClock, settings: Settings) -> TokenSigner:
    return TokenSigner(SECRET, settings.access_ttl_seconds, clock)


@pytest.fixture
def sign_in(signer: TokenSigner, settings: Settings, clock: ManualClock):
    async def sign_in(
        identifier: str, password: str = PASSWORD, client: ClientKind = ClientKind.WEB
    ) -> SignedIn:
        return await accounts.login(
            identifier=identifier,
            password=password,
            client=client,
            address="10.0.0.9",
            signer=signer,
            settings=settings,
            clock=clock,
        )

    return sign_in


async def caller_of(token: str, signer: TokenSigner, clock: ManualClock) -> accounts.Caller:
    return await accounts.authenticate(token=token, signer=signer, clock=clock)


async def test_login_then_authenticate_names_the_user_and_tenant(
    tenant: Tenant, sign_in, signer: TokenSigner, clock: ManualClock
):
    signed_in = await sign_in("  ANN ")
    caller = await caller_of(signed_in.access_token, signer, clock)

    assert signed_in.account.id == tenant.user_id("ann")
    assert (caller.role, caller.tenant_id, caller.account_id) == (
        Role.USER,
        tenant.id,
        tenant.user_id("ann"),
    )


async def test_wrong_password_and_unknown_identifier_answer_alike(tenant: Tenant, sign_in):
    messages = []
    for identifier, password in (("ann", "not the password"), ("nobody", PASSWORD)):
        with pytest.raises(Unauthenticated) as refused:
            await sign_in(identifier, password)
        messages.append(refused.value.message)

    assert messages[0] == messages[1]


async def test_a_suspended_user_can_neither_log_in_nor_use_a_token(
    tenant: Tenant, sign_in, signer: TokenSigner, clock: ManualClock
):
    token = (await sign_in("ann")).access_token
    await tenant.users["ann"].set({User.suspended: True})

    with pytest.raises(Suspended):
        await caller_of(token, signer, clock)
    with pytest.raises(Suspended):
        await sign_in("ann")


async def test_users_of_a_suspended_tenant_are_refused(
    tenant: Tenant, sign_in, signer: TokenSigner, clock: ManualClock
):
    token = (await sign_in("bob")).access_token
    await tenant.admin.set({"suspended": True})

    with pytest.raises(Suspended):
        await caller_of(token, signer, clock)


async def test_logout_ends_the_session_at_the_next_request(
    tenant: Tenant, sign_in, signer: TokenSigner, clock: ManualClock
):
    signed_in = await sign_in("ann")
    caller = await caller_of(signed_in.access_token, signer, clock)

    await accounts.logout(caller=caller, clock=clock)

    with pytest.raises(Unauthenticated):
        await caller_of(signed_in.access_token, signer, clock)


async def test_an_access_token_expires_with_the_clock(
    tenant: Tenant, sign_in, signer: TokenSigner, settings: Settings, clock: ManualClock
):
    token = (await sign_in("ann")).access_token
    clock.advance(settings.access_ttl_seconds - 1)
    await caller_of(token, signer, clock)

    clock.advance(1)
    with pytest.raises(Unauthenticated):
        await caller_of(token, signer, clock)


async def test_a_refresh_gives_a_working_pair_and_the_old_one_once_only(
    tenant: Tenant, sign_in, signer: TokenSigner, settings: Settings, clock: ManualClock
):
    first = await sign_in("ann", client=ClientKind.MOBILE)
    clock.advance(settings.access_ttl_seconds + 60)

    second = await accounts.refresh(
        refresh_token=first.refresh_token, signer=signer, settings=settings, clock=clock
    )
    assert (await caller_of(second.access_token, signer, clock)).account_id == tenant.user_id("ann")

    # Replaying the first refresh token marks it stolen: the whole session ends.
    with pytest.raises(Unauthenticated):
        await accounts.refresh(
            refresh_token=first.refresh_token, signer=signer, settings=settings, clock=clock
        )
    with pytest.raises(Unauthenticated):
        await caller_of(second.access_token, signer, clock)


async def test_a_mobile_session_outlives_a_web_one(
    tenant: Tenant, sign_in, signer: TokenSigner, settings: Settings, clock: ManualClock
):
    web = await sign_in("ann", client=ClientKind.WEB)
    mobile = await sign_in("ann", client=ClientKind.MOBILE)
    clock.advance(settings.web_session_ttl_seconds + 1)

    renewed = await accounts.refresh(
        refresh_token=mobile.refresh_token, signer=signer, settings=settings, clock=clock
    )
    with pytest.raises(Unauthenticated):
        await accounts.refresh(
            refresh_token=web.refresh_token, signer=signer, settings=settings, clock=clock
        )
    assert renewed.access_token


async def test_tokens_of_a_retired_secret_work_until_it_is_dropped(
    tenant: Tenant, sign_in, signer: TokenSigner, settings: Settings, clock: ManualClock
):
    token = (await sign_in("ann")).access_token
    rotated = TokenSigner("n" * 40, settings.access_ttl_seconds, clock, previous=(SECRET,))
    dropped = TokenSigner("n" * 40, settings.access_ttl_seconds, clock)

    assert (await caller_of(token, rotated, clock)).account_id == tenant.user_id("ann")
    assert jwt.get_unverified_header(rotated.issue(kind="access", session_id="s", account_id="a"))[
        "kid"
    ] == key_id("n" * 40)
    with pytest.raises(Unauthenticated):
        await caller_of(token, dropped, clock)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda claims: jwt.encode(
                claims, "y" * 40, algorithm="HS256", headers={"kid": key_id(SECRET)}
            ),
            id="other-key-same-kid",
        ),
        pytest.param(
            lambda claims: jwt.encode(
                claims, None, algorithm="none", headers={"kid": key_id(SECRET)}
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda claims: jwt.encode(
                {**claims, "aud": "elsewhere"},
                SECRET,
                algorithm="HS256",
                headers={"kid": key_id(SECRET)},
            ),
            id="wrong-audience",
        ),
        pytest.param(
            lambda claims: jwt.encode(
                {**claims, "typ": "refresh"},
                SECRET,
                algorithm="HS256",
                headers={"kid": key_id(SECRET)},
            ),
            id="refresh-used-as-access",
        ),
        pytest.param(
            lambda claims: jwt.encode(
                {**claims, "exp": claims["iat"] - 1},
                SECRET,
                algorithm="HS256",
                headers={"kid": key_id(SECRET)},
            ),
            id="expired",
        ),
        pytest.param(lambda claims: "ppd_" + "a" * 43, id="device-key"),
    ],
)
async def test_forged_tokens_are_refused(
    tenant: Tenant, sign_in, signer: TokenSigner, clock: ManualClock, forge
):
    token = (await sign_in("ann")).access_token
    claims = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False},
    )

    with pytest.raises(Unauthenticated):
        await caller_of(forge(claims), signer, clock)


async def test_an_old_hash_is_upgraded_at_the_next_login(tenant: Tenant, sign_in):
    from argon2 import PasswordHasher  # noqa: PLC0415

    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await tenant.users["bob"].set({User.password_hash: weak})

    await sign_in("bob")

    fresh = await User.get(tenant.user_id("bob"))
    assert fresh is not None
    assert fresh.password_hash != weak
    assert "m=19456,t=2,p=1" in fresh.password_hash


async def test_change_password_ends_the_other_sessions(
    tenant: Tenant, sign_in, signer: TokenSigner, settings: Settings, clock: ManualClock
):
    phone, laptop = await sign_in("ann"), await sign_in("ann")
    caller = await caller_of(laptop.access_token, signer, clock)

    await accounts.change_password(
        caller=caller, current=PASSWORD, new="a river of tea", settings=settings, clock=clock
    )

    with pytest.raises(Unauthenticated):
        await caller_of(phone.access_token, signer, clock)
    assert await caller_of(laptop.access_token, signer, clock)
    assert (await sign_in("ann", "a river of tea")).account.id == tenant.user_id("ann")


@pytest.mark.parametrize("password", ["short", "password123", "iloveyou", "zzzzzzzzzzz"])
async def test_weak_passwords_are_refused(tenant: Tenant, clock: ManualClock, password: str):
    with pytest.raises(BadUserInput):
        await accounts.create_user(
            actor=tenant.as_admin, identifier="newbie", name="x", password=password, clock=clock
        )


async def test_a_password_may_not_contain_the_identifier(tenant: Tenant, clock: ManualClock):
    with pytest.raises(BadUserInput):
        await accounts.create_user(
            actor=tenant.as_admin,
            identifier="ann-is",
            name="x",
            password="ann-is-great",
            clock=clock,
        )


async def test_an_identifier_is_unique_across_admins_and_users(tenant: Tenant, clock: ManualClock):
    with pytest.raises(Conflict):
        await accounts.create_admin(
            actor=await master_caller(clock),
            identifier="ann",
            name="Ann",
            password=PASSWORD,
            clock=clock,
        )
    with pytest.raises(Conflict):
        await accounts.create_user(
            actor=tenant.as_admin,
            identifier="farm-admin",
            name="x",
            password=PASSWORD,
            clock=clock,
        )


async def test_a_card_is_unique_within_a_tenant_only(
    tenant: Tenant, other_tenant: Tenant, clock: ManualClock
):
    await accounts.create_user(
        actor=tenant.as_admin,
        identifier="carded",
        name="x",
        password=PASSWORD,
        rfid_card="a1b2",
        clock=clock,
    )
    with pytest.raises(Conflict):
        await accounts.create_user(
            actor=tenant.as_admin,
            identifier="copycat",
            name="x",
            password=PASSWORD,
            rfid_card="A1B2",
            clock=clock,
        )
    elsewhere = await accounts.create_user(
        actor=other_tenant.as_admin,
        identifier="faraway",
        name="x",
        password=PASSWORD,
        rfid_card="A1B2",
        clock=clock,
    )
    assert elsewhere.rfid_card == "A1B2"


async def test_hashing_is_the_owasp_minimum():
    assert "$argon2id$v=19$m=19456,t=2,p=1$" in await hash_password("anything at all")
