"""Accounts, login, sessions and the caller behind a token."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from pumppilot import events
from pumppilot.auth.passwords import hash_password, needs_rehash, verify_password
from pumppilot.auth.policy import check_new_password
from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import audit, throttle
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.engines.duplicates import violated_index
from pumppilot.errors import BadUserInput, Conflict, Suspended, Unauthenticated
from pumppilot.models import Admin, ClientKind, Role, Session, User

log = logging.getLogger(__name__)

IDENTIFIER_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+-]{2,63}")
MAX_NAME_LENGTH = 80
MAX_CARD_LENGTH = 64
BAD_CREDENTIALS = "identifier or password is wrong"

Account = Admin | User


@dataclass(frozen=True)
class SignedIn:
    """What a login or a refresh hands back."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    account: Account


def tenant_of(account: Account) -> PydanticObjectId | None:
    if isinstance(account, User):
        return account.admin_id
    return account.id if account.role is Role.ADMIN else None


def role_of(account: Account) -> Role:
    return Role.USER if isinstance(account, User) else account.role


def normalize_identifier(identifier: str) -> str:
    value = identifier.strip().lower()
    if not IDENTIFIER_PATTERN.fullmatch(value):
        raise BadUserInput(
            "an identifier is 3 to 64 characters: letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    return value


def _display_name(name: str, fallback: str) -> str:
    cleaned = " ".join(name.split())
    if len(cleaned) > MAX_NAME_LENGTH:
        raise BadUserInput(f"a name has at most {MAX_NAME_LENGTH} characters")
    return cleaned or fallback


async def _find_account(identifier: str) -> Account | None:
    admin = await Admin.find_one(Admin.identifier == identifier)
    if admin is not None:
        return admin
    return await User.find_one(User.identifier == identifier)


async def _claim_identifier(identifier: str) -> str:
    # Admins and users log in through one form, so an identifier is unique across both.
    value = normalize_identifier(identifier)
    if await _find_account(value) is not None:
        raise Conflict(f"the identifier {value!r} is already taken")
    return value


async def create_master(*, identifier: str, name: str, password: str, clock: Clock) -> Admin:
    """The platform's master admin; made from the command line, never through the API."""
    return await _insert_admin(identifier, name, password, Role.MASTER, clock)


async def create_admin(
    *, actor: Caller, identifier: str, name: str, password: str, clock: Clock
) -> Admin:
    """A new tenant with its admin account; only the master creates them."""
    actor.require(Role.MASTER)
    admin = await _insert_admin(identifier, name, password, Role.ADMIN, clock)

    assert admin.id is not None
    await audit.record(
        AuditAction.ADMIN_CREATED,
        clock=clock,
        actor=actor,
        tenant_id=admin.id,
        target=str(admin.id),
    )
    return admin


async def _insert_admin(
    identifier: str, name: str, password: str, role: Role, clock: Clock
) -> Admin:
    value = await _claim_identifier(identifier)
    check_new_password(password, identifier=value)

    admin = Admin(
        identifier=value,
        name=_display_name(name, value),
        password_hash=await hash_password(password),
        role=role,
        created_at=clock.now(),
    )
    try:
        await admin.insert()
    except DuplicateKeyError as exc:
        raise Conflict(f"the identifier {value!r} is already taken") from exc

    log.info("created %s account %s", role.value.lower(), admin.id)
    return admin


async def create_user(
    *,
    actor: Caller,
    identifier: str,
    name: str,
    password: str,
    clock: Clock,
    rfid_card: str | None = None,
) -> User:
    """A user bound to the admin's own tenant."""
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    value = await _claim_identifier(identifier)
    check_new_password(password, identifier=value)

    user = User(
        admin_id=tenant_id,
        identifier=value,
        name=_display_name(name, value),
        password_hash=await hash_password(password),
        rfid_card=_card(rfid_card),
        created_at=clock.now(),
    )
    try:
        await user.insert()
    except DuplicateKeyError as exc:
        if violated_index(exc) == "tenant_rfid_card":
            raise Conflict("another user of this tenant already has that card") from exc
        raise Conflict(f"the identifier {value!r} is already taken") from exc

    assert user.id is not None
    await audit.record(
        AuditAction.USER_CREATED, clock=clock, actor=actor, tenant_id=tenant_id, target=str(user.id)
    )
    await _announce(user.id, tenant_id)
    return user


def _card(rfid_card: str | None) -> str | None:
    if rfid_card is None or not rfid_card.strip():
        return None

    card = rfid_card.strip().upper()
    if len(card) > MAX_CARD_LENGTH or not card.isalnum() or not card.isascii():
        raise BadUserInput(f"a card id is 1 to {MAX_CARD_LENGTH} letters and digits")
    return card


async def login(
    *,
    identifier: str,
    password: str,
    client: ClientKind,
    address: str | None,
    signer: TokenSigner,
    settings: Settings,
    clock: Clock,
) -> SignedIn:
    """Check the credentials and open a session; unknown and wrong answer the same."""
    wanted = identifier.strip().lower()
    keys = throttle.throttle_keys(wanted, address)
    await throttle.claim(keys, settings=settings, clock=clock)

    account = await _find_account(wanted)
    hashed = account.password_hash if account is not None else None
    if not await verify_password(hashed, password) or account is None:
        await throttle.failed(keys, settings=settings, clock=clock)
        await audit.record(
            AuditAction.LOGIN_FAILED,
            clock=clock,
            actor_id=account.id if account is not None else None,
            tenant_id=tenant_of(account) if account is not None else None,
            target=wanted[:64],
            address=address,
        )
        raise Unauthenticated(BAD_CREDENTIALS)

    await _ensure_not_suspended(account)
    await throttle.succeeded(keys)
    if needs_rehash(account.password_hash):
        # Hashes made with older, weaker parameters are upgraded while the password is known.
        await account.set({"password_hash": await hash_password(password)})

    assert account.id is not None
    signed_in = await open_session(account, client, signer=signer, settings=settings, clock=clock)
    await audit.record(
        AuditAction.LOGIN,
        clock=clock,
        actor_id=account.id,
        actor_role=role_of(account),
        tenant_id=tenant_of(account),
        target=str(account.id),
        detail=client.value,
        address=address,
    )
    return signed_in


async def open_session(
    account: Account,
    client: ClientKind,
    *,
    signer: TokenSigner,
    settings: Settings,
    clock: Clock,
) -> SignedIn:
    """Open a session for an account whose identity is already established.

    Login calls this after the password; tools that run beside the store (the fleet
    simulator, benchmarks) call it directly, as they could write the session anyway.
    """
    assert account.id is not None
    ttl = (
        settings.mobile_session_ttl_seconds
        if client is ClientKind.MOBILE
        else settings.web_session_ttl_seconds
    )
    now = clock.now()
    session = Session(
        account_id=account.id,
        role=role_of(account),
        admin_id=tenant_of(account),
        client=client,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    await session.insert()
    return _signed_in(session, account, signer=signer, clock=clock, settings=settings)


def _signed_in(
    session: Session, account: Account, *, signer: TokenSigner, clock: Clock, settings: Settings
) -> SignedIn:
    now = clock.now()
    access_ttl = timedelta(seconds=settings.access_ttl_seconds)
    expires = min(now + access_ttl, session.expires_at)
    ids = {"session_id": str(session.id), "account_id": str(account.id)}
    return SignedIn(
        access_token=signer.issue(
            kind="access", generation=session.refresh_generation, ttl=expires - now, **ids
        ),
        refresh_token=signer.issue(
            kind="refresh",
            generation=session.refresh_generation,
            ttl=session.expires_at - now,
            **ids,
        ),
        access_expires_at=expires,
        account=account,
    )


async def refresh(
    *, refresh_token: str, signer: TokenSigner, settings: Settings, clock: Clock
) -> SignedIn:
    """Trade a refresh token for a new pair. Each refresh token works once.

    A refresh token presented a second time means it was copied: the session ends, so
    neither the thief nor the owner can keep using it.
    """
    claims = signer.verify(refresh_token, kind="refresh")
    session = await _live_session(claims.session_id, claims.account_id, clock=clock)
    account = await load_account(session.account_id, session.role)
    if account is None:
        raise Unauthenticated("the account no longer exists")
    await _ensure_not_suspended(account)

    raw = await Session.get_pymongo_collection().find_one_and_update(
        {"_id": session.id, "refresh_generation": claims.generation, "revoked_at": None},
        {"$inc": {"refresh_generation": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if raw is None:
        await _revoke(session, clock=clock)
        await _announce(session.account_id, session.admin_id)
        await audit.record(
            AuditAction.REFRESH_REUSED,
            clock=clock,
            actor_id=session.account_id,
            actor_role=session.role,
            tenant_id=session.admin_id,
            target=str(session.id),
        )
        raise Unauthenticated("this refresh token was already used; log in again")

    fresh = Session.model_validate(raw)
    return _signed_in(fresh, account, signer=signer, clock=clock, settings=settings)


async def authenticate(
    *, token: str, signer: TokenSigner, clock: Clock, address: str | None = None
) -> Caller:
    """The caller behind an access token, refused once the session ends or is suspended."""
    claims = signer.verify(token, kind="access")
    session = await _session(claims.session_id, claims.account_id)
    account = await load_account(session.account_id, session.role)
    if account is None:
        raise Unauthenticated("the account no longer exists")

    # Suspension is checked before the session's end, so a suspended account hears why.
    await _ensure_not_suspended(account)
    _ensure_live(session, clock=clock)

    assert session.id is not None
    return Caller(
        account_id=session.account_id,
        role=session.role,
        tenant_id=session.admin_id,
        session_id=session.id,
        name=account.name,
        address=address,
    )


async def _live_session(session_id: str, account_id: str, *, clock: Clock) -> Session:
    session = await _session(session_id, account_id)
    _ensure_live(session, clock=clock)
    return session


async def _session(session_id: str, account_id: str) -> Session:
    session = await Session.get(session_id)
    if session is None or str(session.account_id) != account_id:
        raise Unauthenticated("the session no longer exists; log in again")
    return session


def _ensure_live(session: Session, *, clock: Clock) -> None:
    if session.revoked_at is not None or session.expires_at <= clock.now():
        raise Unauthenticated("the session has ended; log in again")


async def logout(*, caller: Caller, clock: Clock) -> None:
    session = await Session.get(caller.session_id)
    if session is not None:
        await _revoke(session, clock=clock)
    log.info("account %s logged out", caller.account_id)
    await _announce(caller.account_id, caller.tenant_id)


async def change_password(
    *, caller: Caller, current: str, new: str, settings: Settings, clock: Clock
) -> None:
    """Set a new password; every other session of the account ends.

    The current password is checked under the same throttle as a login, so a stolen
    token cannot be used to guess it faster than the login form allows.
    """
    account = await load_account(caller.account_id, caller.role)
    if account is None:
        raise Unauthenticated("the account no longer exists")
    keys = throttle.throttle_keys(account.identifier, caller.address)
    await throttle.claim(keys, settings=settings, clock=clock)
    if not await verify_password(account.password_hash, current):
        await throttle.failed(keys, settings=settings, clock=clock)
        await audit.record(
            AuditAction.PASSWORD_CHANGE_FAILED,
            clock=clock,
            actor=caller,
            tenant_id=caller.tenant_id,
            target=str(caller.account_id),
        )
        raise Unauthenticated("the current password is wrong")
    await throttle.succeeded(keys)
    check_new_password(new, identifier=account.identifier)

    await account.set({"password_hash": await hash_password(new)})
    await Session.get_pymongo_collection().update_many(
        {"account_id": caller.account_id, "_id": {"$ne": caller.session_id}, "revoked_at": None},
        {"$set": {"revoked_at": clock.now()}},
    )
    await audit.record(
        AuditAction.PASSWORD_CHANGED,
        clock=clock,
        actor=caller,
        tenant_id=caller.tenant_id,
        target=str(caller.account_id),
    )
    await _announce(caller.account_id, caller.tenant_id)


async def end_sessions(account_id: PydanticObjectId, *, clock: Clock) -> None:
    """Revoke every session of an account, e.g. when it is suspended."""
    await Session.get_pymongo_collection().update_many(
        {"account_id": account_id, "revoked_at": None}, {"$set": {"revoked_at": clock.now()}}
    )


async def _revoke(session: Session, *, clock: Clock) -> None:
    await Session.get_pymongo_collection().update_one(
        {"_id": session.id, "revoked_at": None}, {"$set": {"revoked_at": clock.now()}}
    )


async def _announce(account_id: PydanticObjectId, tenant_id: PydanticObjectId | None) -> None:
    # Open subscriptions of this account re-check their session when they hear this, and
    # every worker forgets what it had cached about the account's sessions.
    if tenant_id is not None:
        await events.publish("account", tenant_id, account_id)


async def load_account(account_id: PydanticObjectId, role: Role) -> Account | None:
    if role is Role.USER:
        return await User.get(account_id)
    return await Admin.get(account_id)


async def _ensure_not_suspended(account: Account) -> None:
    if account.suspended:
        raise Suspended("this account is suspended; ask your admin")

    if isinstance(account, User):
        admin = await Admin.get(account.admin_id)
        if admin is None or admin.suspended:
            raise Suspended("this pump's operator is suspended; ask your admin")
