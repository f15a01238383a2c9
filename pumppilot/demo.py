"""Demo data: a master admin, two tenants with users, balances and a device each.

Seeding is idempotent. Secrets are generated on the first run and kept in the data
directory, so a demo never ships with well-known passwords or device keys.
"""

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pumppilot.auth.passwords import hash_password, verify_password
from pumppilot.clock import Clock
from pumppilot.engines import accounts, devices, wallet
from pumppilot.engines.caller import Caller, acting_as
from pumppilot.models import Admin, Role, User

CREDENTIALS_FILE = "demo-credentials.json"
DEVICE_ID = "pump-1"

TENANTS = {
    "rahim": ("Rahim's farm", {"amina": ("Amina", 120), "babu": ("Babu", 30)}),
    "qadir": ("Qadir's village", {"chitra": ("Chitra", 90), "dev": ("Dev", 10)}),
}


@dataclass
class DemoTenant:
    admin_id: str
    device_key: str


@dataclass
class DemoCredentials:
    passwords: dict[str, str] = field(default_factory=dict)
    tenants: dict[str, DemoTenant] = field(default_factory=dict)


async def seed_demo(data_dir: Path, clock: Clock) -> DemoCredentials:
    creds = _load(data_dir)
    master = await _ensure_admin("master", "Platform master", creds, None, clock)
    assert master.id is not None
    as_master = acting_as(master.id, Role.MASTER, master.name)

    for admin_identifier, (tenant_name, users) in TENANTS.items():
        admin = await _ensure_admin(admin_identifier, tenant_name, creds, as_master, clock)
        assert admin.id is not None
        as_admin = acting_as(admin.id, Role.ADMIN, admin.name)
        for identifier, (name, minutes) in users.items():
            await _ensure_user(
                actor=as_admin,
                identifier=identifier,
                name=name,
                minutes=minutes,
                creds=creds,
                clock=clock,
            )

        key = await _ensure_device(as_admin, creds, admin_identifier, clock)
        creds.tenants[admin_identifier] = DemoTenant(admin_id=str(admin.id), device_key=key)

    _save(data_dir, creds)
    return creds


def _password(creds: DemoCredentials, identifier: str) -> str:
    return creds.passwords.setdefault(identifier, secrets.token_urlsafe(12))


async def _ensure_admin(
    identifier: str, name: str, creds: DemoCredentials, master: Caller | None, clock: Clock
) -> Admin:
    """The master (when `master` is None) or a tenant's admin, created by the master."""
    password = _password(creds, identifier)
    admin = await Admin.find_one(Admin.identifier == identifier)
    if admin is None and master is None:
        return await accounts.create_master(
            identifier=identifier, name=name, password=password, clock=clock
        )
    if admin is None:
        assert master is not None
        return await accounts.create_admin(
            actor=master, identifier=identifier, name=name, password=password, clock=clock
        )

    await _sync_password(admin, password)
    return admin


async def _ensure_user(
    *,
    actor: Caller,
    identifier: str,
    name: str,
    minutes: int,
    creds: DemoCredentials,
    clock: Clock,
) -> None:
    password = _password(creds, identifier)
    user = await User.find_one(User.identifier == identifier)
    if user is None:
        user = await accounts.create_user(
            actor=actor, identifier=identifier, name=name, password=password, clock=clock
        )
    else:
        await _sync_password(user, password)

    assert user.id is not None
    await wallet.recharge(
        actor=actor,
        user_id=user.id,
        minutes=minutes,
        idempotency_key=f"demo-initial-{identifier}",
        clock=clock,
    )


async def _ensure_device(
    admin: Caller, creds: DemoCredentials, admin_identifier: str, clock: Clock
) -> str:
    known = creds.tenants.get(admin_identifier)
    tenant_id = admin.own_tenant()
    device = await devices.find_device(tenant_id, DEVICE_ID)
    if device is None:
        _, key = await devices.register_device(
            actor=admin, device_id=DEVICE_ID, name="Main pump", clock=clock
        )
        return key

    if known is not None:
        return known.device_key

    # The credentials file was deleted: give the device a fresh key to print.
    _, key = await devices.rotate_key(actor=admin, device_id=DEVICE_ID, clock=clock)
    return key


async def _sync_password(account: Admin | User, password: str) -> None:
    # Only when the credentials file was replaced do the stored hash and the file differ.
    if not await verify_password(account.password_hash, password):
        await account.set({"password_hash": await hash_password(password)})


def _load(data_dir: Path) -> DemoCredentials:
    path = data_dir / CREDENTIALS_FILE
    if not path.exists():
        return DemoCredentials()

    raw = json.loads(path.read_text())
    tenants = {name: DemoTenant(**tenant) for name, tenant in raw.get("tenants", {}).items()}
    return DemoCredentials(passwords=raw.get("passwords", {}), tenants=tenants)


def _save(data_dir: Path, creds: DemoCredentials) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CREDENTIALS_FILE
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(creds), indent=2))
