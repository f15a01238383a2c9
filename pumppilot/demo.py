"""Demo data: a master admin, two tenants with users, balances and a device each.

Seeding is idempotent. Secrets are generated on the first run and kept in the data
directory, so a demo never ships with well-known passwords or device keys.
"""

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from beanie import PydanticObjectId

from pumppilot.auth.passwords import hash_password, verify_password
from pumppilot.clock import Clock
from pumppilot.engines import accounts, devices, wallet
from pumppilot.models import Admin, Device, Role, User

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
    await _ensure_admin("master", "Platform master", creds, Role.MASTER, clock)

    for admin_identifier, (tenant_name, users) in TENANTS.items():
        admin = await _ensure_admin(admin_identifier, tenant_name, creds, Role.ADMIN, clock)
        assert admin.id is not None
        for identifier, (name, minutes) in users.items():
            await _ensure_user(
                tenant_id=admin.id,
                identifier=identifier,
                name=name,
                minutes=minutes,
                creds=creds,
                clock=clock,
            )

        key = await _ensure_device(admin.id, creds, admin_identifier, clock)
        creds.tenants[admin_identifier] = DemoTenant(admin_id=str(admin.id), device_key=key)

    _save(data_dir, creds)
    return creds


def _password(creds: DemoCredentials, identifier: str) -> str:
    return creds.passwords.setdefault(identifier, secrets.token_urlsafe(9))


async def _ensure_admin(
    identifier: str, name: str, creds: DemoCredentials, role: Role, clock: Clock
) -> Admin:
    password = _password(creds, identifier)
    admin = await Admin.find_one(Admin.identifier == identifier)
    if admin is None:
        return await accounts.create_admin(
            identifier=identifier, name=name, password=password, role=role, clock=clock
        )

    await _sync_password(admin, password)
    return admin


async def _ensure_user(
    *,
    tenant_id: PydanticObjectId,
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
            tenant_id=tenant_id, identifier=identifier, name=name, password=password, clock=clock
        )
    else:
        await _sync_password(user, password)

    assert user.id is not None
    await wallet.recharge(
        tenant_id=tenant_id,
        user_id=user.id,
        minutes=minutes,
        actor_id=tenant_id,
        idempotency_key=f"demo-initial-{identifier}",
        clock=clock,
    )


async def _ensure_device(
    tenant_id: PydanticObjectId, creds: DemoCredentials, admin_identifier: str, clock: Clock
) -> str:
    known = creds.tenants.get(admin_identifier)
    device = await Device.find_one(Device.admin_id == tenant_id, Device.device_id == DEVICE_ID)
    if device is None:
        _, key = await devices.register_device(
            tenant_id=tenant_id, device_id=DEVICE_ID, name="Main pump", clock=clock
        )
        return key

    if known is not None:
        return known.device_key

    # The credentials file was deleted: give the device a fresh key to print.
    key = devices.KEY_PREFIX + secrets.token_urlsafe(32)
    await device.set({Device.key_hash: devices.hash_key(key)})
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
