"""Accounts, login and the caller behind a token."""

import logging
import re
from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from pumppilot.auth.passwords import hash_password, verify_password
from pumppilot.auth.tokens import TokenSigner
from pumppilot.clock import Clock
from pumppilot.errors import BadUserInput, Conflict, Forbidden, Suspended, Unauthenticated
from pumppilot.models import Admin, Role, Session, User

log = logging.getLogger(__name__)

IDENTIFIER_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+-]{2,63}")
MIN_PASSWORD_LENGTH = 8
BAD_CREDENTIALS = "identifier or password is wrong"

Account = Admin | User


@dataclass(frozen=True)
class Caller:
    """Who is making a request, as established from their token and session."""

    account_id: PydanticObjectId
    role: Role
    tenant_id: PydanticObjectId | None
    session_id: PydanticObjectId
    name: str

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = " or ".join(role.value.lower() for role in roles)
            raise Forbidden(f"only a {allowed} may do this")


def tenant_of(account: Account) -> PydanticObjectId | None:
    if isinstance(account, User):
        return account.admin_id
    return account.id if account.role is Role.ADMIN else None


def normalize_identifier(identifier: str) -> str:
    value = identifier.strip().lower()
    if not IDENTIFIER_PATTERN.fullmatch(value):
        raise BadUserInput(
            "an identifier is 3 to 64 characters: letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    return value


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


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


async def create_admin(
    *, identifier: str, name: str, password: str, clock: Clock, role: Role = Role.ADMIN
) -> Admin:
    if role is Role.USER:
        raise BadUserInput("an admin account cannot have the user role")
    _check_password(password)
    value = await _claim_identifier(identifier)

    admin = Admin(
        identifier=value,
        name=name.strip() or value,
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
    *, tenant_id: PydanticObjectId, identifier: str, name: str, password: str, clock: Clock
) -> User:
    _check_password(password)
    value = await _claim_identifier(identifier)

    user = User(
        admin_id=tenant_id,
        identifier=value,
        name=name.strip() or value,
        password_hash=await hash_password(password),
        created_at=clock.now(),
    )
    try:
        await user.insert()
    except DuplicateKeyError as exc:
        raise Conflict(f"the identifier {value!r} is already taken") from exc

    log.info("created user %s in tenant %s", user.id, tenant_id)
    return user


async def login(
    *, identifier: str, password: str, signer: TokenSigner, clock: Clock
) -> tuple[str, Account]:
    """Check the credentials and open a session; unknown and wrong answer the same."""
    account = await _find_account(identifier.strip().lower())
    hashed = account.password_hash if account is not None else None
    if not await verify_password(hashed, password) or account is None:
        log.warning("failed login for an identifier of %d characters", len(identifier))
        raise Unauthenticated(BAD_CREDENTIALS)

    await _ensure_not_suspended(account)

    assert account.id is not None
    now = clock.now()
    session = Session(
        account_id=account.id,
        role=_role_of(account),
        admin_id=tenant_of(account),
        created_at=now,
        expires_at=now + signer.ttl,
    )
    await session.insert()
    assert session.id is not None

    log.info("account %s logged in", account.id)
    token = signer.issue(session_id=str(session.id), account_id=str(account.id))
    return token, account


async def authenticate(*, token: str, signer: TokenSigner, clock: Clock) -> Caller:
    """The caller behind a token, refused once the session ends or the account is suspended."""
    claims = signer.verify(token)
    session = await Session.get(claims.session_id)
    if session is None or str(session.account_id) != claims.account_id:
        raise Unauthenticated("the session no longer exists; log in again")
    if session.revoked_at is not None or session.expires_at <= clock.now():
        raise Unauthenticated("the session has ended; log in again")

    account = await load_account(session.account_id, session.role)
    if account is None:
        raise Unauthenticated("the account no longer exists")
    await _ensure_not_suspended(account)

    assert session.id is not None
    return Caller(
        account_id=session.account_id,
        role=session.role,
        tenant_id=session.admin_id,
        session_id=session.id,
        name=account.name,
    )


async def logout(*, caller: Caller, clock: Clock) -> None:
    session = await Session.get(caller.session_id)
    if session is not None and session.revoked_at is None:
        await session.set({Session.revoked_at: clock.now()})
    log.info("account %s logged out", caller.account_id)


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


def _role_of(account: Account) -> Role:
    return Role.USER if isinstance(account, User) else account.role
