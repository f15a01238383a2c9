"""Login, sessions and the caller behind a token."""

import jwt
import pytest

from pumppilot.auth.tokens import AUDIENCE, ISSUER, TokenSigner
from pumppilot.clock import ManualClock
from pumppilot.engines import accounts
from pumppilot.errors import Conflict, Suspended, Unauthenticated
from pumppilot.models import Role, User
from tests.factories import PASSWORD, Tenant

SECRET = "s" * 40


@pytest.fixture
def signer(clock: ManualClock) -> TokenSigner:
    return TokenSigner(SECRET, ttl_seconds=3600, clock=clock)


async def test_login_then_authenticate_names_the_user_and_tenant(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    token, account = await accounts.login(
        identifier="  ANN ", password=PASSWORD, signer=signer, clock=clock
    )
    caller = await accounts.authenticate(token=token, signer=signer, clock=clock)

    assert account.id == tenant.user_id("ann")
    assert (caller.role, caller.tenant_id, caller.account_id) == (
        Role.USER,
        tenant.id,
        tenant.user_id("ann"),
    )


async def test_wrong_password_and_unknown_identifier_answer_alike(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    messages = []
    for identifier, password in (("ann", "not the password"), ("nobody", PASSWORD)):
        with pytest.raises(Unauthenticated) as refused:
            await accounts.login(
                identifier=identifier, password=password, signer=signer, clock=clock
            )
        messages.append(refused.value.message)

    assert messages[0] == messages[1]


async def test_a_suspended_user_can_neither_log_in_nor_use_a_token(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    token, _ = await accounts.login(identifier="ann", password=PASSWORD, signer=signer, clock=clock)
    await tenant.users["ann"].set({User.suspended: True})

    with pytest.raises(Suspended):
        await accounts.authenticate(token=token, signer=signer, clock=clock)
    with pytest.raises(Suspended):
        await accounts.login(identifier="ann", password=PASSWORD, signer=signer, clock=clock)


async def test_users_of_a_suspended_tenant_are_refused(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    token, _ = await accounts.login(identifier="bob", password=PASSWORD, signer=signer, clock=clock)
    await tenant.admin.set({"suspended": True})

    with pytest.raises(Suspended):
        await accounts.authenticate(token=token, signer=signer, clock=clock)


async def test_logout_ends_the_session_at_the_next_request(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    token, _ = await accounts.login(identifier="ann", password=PASSWORD, signer=signer, clock=clock)
    caller = await accounts.authenticate(token=token, signer=signer, clock=clock)

    await accounts.logout(caller=caller, clock=clock)

    with pytest.raises(Unauthenticated):
        await accounts.authenticate(token=token, signer=signer, clock=clock)


async def test_a_token_expires_with_the_clock(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock
):
    token, _ = await accounts.login(identifier="ann", password=PASSWORD, signer=signer, clock=clock)
    clock.advance(3599)
    await accounts.authenticate(token=token, signer=signer, clock=clock)

    clock.advance(1)
    with pytest.raises(Unauthenticated):
        await accounts.authenticate(token=token, signer=signer, clock=clock)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda claims: jwt.encode(claims, "y" * 40, algorithm="HS256"), id="other-key"
        ),
        pytest.param(lambda claims: jwt.encode(claims, None, algorithm="none"), id="alg-none"),
        pytest.param(
            lambda claims: jwt.encode({**claims, "aud": "elsewhere"}, SECRET, algorithm="HS256"),
            id="wrong-audience",
        ),
        pytest.param(
            lambda claims: jwt.encode({**claims, "typ": "refresh"}, SECRET, algorithm="HS256"),
            id="wrong-type",
        ),
    ],
)
async def test_forged_tokens_are_refused(
    tenant: Tenant, signer: TokenSigner, clock: ManualClock, forge
):
    token, _ = await accounts.login(identifier="ann", password=PASSWORD, signer=signer, clock=clock)
    claims = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"verify_exp": False},
    )

    with pytest.raises(Unauthenticated):
        await accounts.authenticate(token=forge(claims), signer=signer, clock=clock)


async def test_an_identifier_is_unique_across_admins_and_users(tenant: Tenant, clock: ManualClock):
    with pytest.raises(Conflict):
        await accounts.create_admin(identifier="ann", name="Ann", password=PASSWORD, clock=clock)
    with pytest.raises(Conflict):
        await accounts.create_user(
            tenant_id=tenant.id, identifier="farm-admin", name="x", password=PASSWORD, clock=clock
        )
