"""Pump controller boards: registration, keys, and the answer to a poll."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import queue
from pumppilot.engines.ids import parse_id
from pumppilot.engines.runs import remaining_seconds
from pumppilot.errors import BadUserInput, Conflict, NotFound, Suspended, Unauthenticated
from pumppilot.models import Admin, Device, Run, RunStatus

log = logging.getLogger(__name__)

KEY_PREFIX = "ppd_"
MAX_DEVICE_ID_LENGTH = 64


@dataclass(frozen=True)
class DeviceReport:
    """What the board says about itself with each poll; None where it said nothing."""

    load_shedding: bool | None = None
    ready: bool | None = None
    output_on: bool | None = None


@dataclass(frozen=True)
class PollAnswer:
    motor_on: bool
    state: str
    hold_reason: str | None
    remaining_seconds: int
    lease_seconds: int
    poll_seconds: int
    seq: int
    server_time: int


def hash_key(key: str) -> str:
    # Device keys are long random strings, so a fast hash is enough; argon2 is for passwords.
    return hashlib.sha256(key.encode()).hexdigest()


async def register_device(
    *, tenant_id: PydanticObjectId, device_id: str, name: str, clock: Clock
) -> tuple[Device, str]:
    """Create a device and return it with its key; the key is never retrievable again."""
    device_id = device_id.strip()
    if not 0 < len(device_id) <= MAX_DEVICE_ID_LENGTH or not device_id.isascii():
        raise BadUserInput(f"a device id is 1 to {MAX_DEVICE_ID_LENGTH} ASCII characters")

    key = KEY_PREFIX + secrets.token_urlsafe(32)
    device = Device(
        admin_id=tenant_id,
        device_id=device_id,
        name=name.strip() or device_id,
        key_hash=hash_key(key),
        created_at=clock.now(),
    )
    try:
        await device.insert()
    except DuplicateKeyError as exc:
        raise Conflict(f"this tenant already has a device {device_id!r}") from exc

    log.info("registered device %s in tenant %s", device_id, tenant_id)
    return device, key


async def poll(
    *,
    admin_id: str,
    device_id: str,
    key: str | None,
    report: DeviceReport,
    settings: Settings,
    clock: Clock,
) -> PollAnswer:
    """Authenticate the board, settle the queue and say whether the motor may run."""
    if not key:
        raise Unauthenticated("a device key is required as a bearer token")
    tenant_id = parse_id(admin_id, what="adminId")
    if not device_id:
        raise BadUserInput("deviceId is required")

    device = await Device.find_one(Device.admin_id == tenant_id, Device.device_id == device_id)
    if device is None:
        raise NotFound("no such device in this tenant")
    if device.revoked or not hmac.compare_digest(device.key_hash, hash_key(key)):
        log.warning("device %s of tenant %s sent a wrong key", device_id, tenant_id)
        raise Unauthenticated("the device key is wrong or revoked")

    admin = await Admin.get(tenant_id)
    if admin is None or admin.suspended:
        raise Suspended("this tenant is suspended")

    await _record_report(device, report, settings=settings, clock=clock)
    active = await queue.settle_due(tenant_id, clock=clock)
    return _answer(active, version=await _version(tenant_id), settings=settings, clock=clock)


def _answer(active: Run | None, *, version: int, settings: Settings, clock: Clock) -> PollAnswer:
    now = clock.now()
    state = "IDLE" if active is None else active.status.value
    return PollAnswer(
        motor_on=active is not None and active.status is RunStatus.RUNNING,
        state=state,
        hold_reason=None,
        remaining_seconds=remaining_seconds(active, now) if active is not None else 0,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.poll_seconds,
        seq=version,
        server_time=int(now.timestamp()),
    )


async def _version(tenant_id: PydanticObjectId) -> int:
    # Settling may have moved the queue on, so read the version after it.
    admin = await Admin.get(tenant_id)
    return admin.queue_version if admin is not None else 0


async def _record_report(
    device: Device, report: DeviceReport, *, settings: Settings, clock: Clock
) -> None:
    """Keep what the board reported, writing only on a change or once per poll interval."""
    now = clock.now()
    changes: dict[str, object] = {
        field: value
        for field, value in (
            ("load_shedding", report.load_shedding),
            ("ready", report.ready),
            ("output_on", report.output_on),
        )
        if value is not None and getattr(device, field) != value
    }
    stale = device.last_seen_at is None or now - device.last_seen_at >= timedelta(
        seconds=settings.poll_seconds
    )
    if not changes and not stale:
        return

    if device.last_seen_at is None or now - device.last_seen_at > timedelta(
        seconds=settings.offline_after_seconds
    ):
        log.info("device %s of tenant %s is online", device.device_id, device.admin_id)
    await Device.get_pymongo_collection().update_one(
        {"_id": device.id}, {"$set": {**changes, "last_seen_at": now}}
    )
