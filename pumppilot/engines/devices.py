"""Pump controller boards: registration, keys, and what they are told when they call."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from pumppilot import events
from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.engines import audit, queue
from pumppilot.engines.audit import AuditAction
from pumppilot.engines.caller import Caller
from pumppilot.engines.ids import parse_id
from pumppilot.engines.runs import remaining_seconds
from pumppilot.errors import BadUserInput, Conflict, NotFound, Suspended, Unauthenticated
from pumppilot.models import Admin, Device, Role, Run, RunStatus, User
from pumppilot.presence import presence

log = logging.getLogger(__name__)

KEY_PREFIX = "ppd_"
MAX_DEVICE_ID_LENGTH = 64
MAX_CARD_LENGTH = 64


@dataclass(frozen=True)
class DeviceReport:
    """What the board says about itself with each poll; None where it said nothing."""

    load_shedding: bool | None = None
    ready: bool | None = None
    output_on: bool | None = None
    firmware: str | None = None
    uptime_seconds: int | None = None


@dataclass(frozen=True)
class PollAnswer:
    # The tenant the answer is for: a board drops an answer meant for another tenant.
    admin_id: str
    motor_on: bool
    state: str
    hold_reason: str | None
    remaining_seconds: int
    lease_seconds: int
    poll_seconds: int
    seq: int
    server_time: int


class ScanAction(StrEnum):
    STARTED = "STARTED"
    QUEUED = "QUEUED"
    STOPPED = "STOPPED"
    LEFT_QUEUE = "LEFT_QUEUE"


@dataclass(frozen=True)
class ScanResult:
    action: ScanAction
    run: Run


def hash_key(key: str) -> str:
    # Device keys are long random strings, so a fast hash is enough; argon2 is for passwords.
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def register_device(
    *, actor: Caller, device_id: str, name: str, clock: Clock
) -> tuple[Device, str]:
    """Create a device in the admin's tenant and return its key, shown this once only."""
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    device_id = device_id.strip()
    if not 0 < len(device_id) <= MAX_DEVICE_ID_LENGTH or not device_id.isascii():
        raise BadUserInput(f"a device id is 1 to {MAX_DEVICE_ID_LENGTH} ASCII characters")

    key = new_key()
    device = Device(
        admin_id=tenant_id,
        device_id=device_id,
        board_key=Device.key_of(tenant_id, device_id),
        name=name.strip()[:80] or device_id,
        key_hash=hash_key(key),
        created_at=clock.now(),
    )
    try:
        await device.insert()
    except DuplicateKeyError as exc:
        raise Conflict(f"this tenant already has a device {device_id!r}") from exc

    await audit.record(
        AuditAction.DEVICE_REGISTERED,
        clock=clock,
        actor=actor,
        tenant_id=tenant_id,
        target=device_id,
    )
    await events.publish("device", tenant_id, subject=device_id)
    return device, key


async def rotate_key(*, actor: Caller, device_id: str, clock: Clock) -> tuple[Device, str]:
    """Give a device a new key; the old one stops working at once."""
    key = new_key()
    device = await _change_own_board(
        actor,
        device_id,
        {Device.key_hash: hash_key(key), Device.revoked: False},
        AuditAction.DEVICE_KEY_ROTATED,
        clock,
    )
    return device, key


async def revoke_device(
    *, actor: Caller, device_id: str, settings: Settings, clock: Clock
) -> Device:
    """Refuse a board from its next request on, until its key is rotated.

    A run that only this board kept going is held at once: a revoked board no longer
    counts as online, so its motor-off time is never charged.
    """
    device = await _change_own_board(
        actor, device_id, {Device.revoked: True}, AuditAction.DEVICE_REVOKED, clock
    )
    await queue.settle_due(device.admin_id, settings=settings, clock=clock)
    return device


async def _change_own_board(
    actor: Caller,
    device_id: str,
    changes: dict[Any, object],
    action: AuditAction,
    clock: Clock,
) -> Device:
    """Change a board of the admin's own tenant, audit it, and announce it."""
    actor.require(Role.ADMIN)
    tenant_id = actor.own_tenant()
    device = await find_device(tenant_id, device_id)
    if device is None:
        raise NotFound("no such device")

    await device.set(changes)
    await audit.record(action, clock=clock, actor=actor, tenant_id=tenant_id, target=device_id)
    await events.publish("device", tenant_id, subject=device_id)
    return device


async def devices_of(tenant_id: PydanticObjectId) -> list[Device]:
    return await Device.find(Device.admin_id == tenant_id).sort("+device_id").to_list()


Board = tuple[Device, Admin]


def claimed_tenant(*, admin_id: str, device_id: str, key: str | None) -> PydanticObjectId:
    """The tenant a request claims to come from, once its parameters are well formed."""
    if not key:
        raise Unauthenticated("a device key is required as a bearer token")
    tenant_id = parse_id(admin_id, what="adminId")
    if not device_id:
        raise BadUserInput("deviceId is required")
    return tenant_id


async def find_device(tenant_id: PydanticObjectId, device_id: str) -> Device | None:
    return await Device.find_one(Device.board_key == Device.key_of(tenant_id, device_id))


async def find_board(tenant_id: PydanticObjectId, device_id: str) -> Board | None:
    device = await find_device(tenant_id, device_id)
    admin = await Admin.get(tenant_id) if device is not None else None
    return (device, admin) if device is not None and admin is not None else None


def check_board(board: Board | None, *, device_id: str, key: str) -> Board:
    """The board, refused unless it exists, its key is right and its tenant active."""
    if board is None:
        raise NotFound("no such device in this tenant")
    device, admin = board
    if device.revoked or not hmac.compare_digest(device.key_hash, hash_key(key)):
        log.warning("device %s of tenant %s sent a wrong key", device_id, device.admin_id)
        raise Unauthenticated("the device key is wrong or revoked")
    if admin.suspended:
        raise Suspended("this tenant is suspended")
    return board


async def authenticate_device(*, admin_id: str, device_id: str, key: str | None) -> Board:
    """The board behind a request and its tenant, refused unless the key is right and the
    tenant active."""
    tenant_id = claimed_tenant(admin_id=admin_id, device_id=device_id, key=key)
    assert key is not None
    return check_board(await find_board(tenant_id, device_id), device_id=device_id, key=key)


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
    board = await authenticate_device(admin_id=admin_id, device_id=device_id, key=key)
    return await poll_board(board, report, settings=settings, clock=clock)


async def poll_board(
    board: Board, report: DeviceReport, *, settings: Settings, clock: Clock
) -> PollAnswer:
    """Record what an authenticated board reported, settle its queue and answer it."""
    device, admin = board
    await _record_report(device, report, settings=settings, clock=clock)
    active = await queue.settle_due(device.admin_id, settings=settings, clock=clock, tenant=admin)
    # The version read before the run: an answer never pairs an old run with a newer seq,
    # so a board that keeps the highest seq it has acted on never acts on a stale ON.
    return answer_for(
        device.admin_id, active, version=admin.queue_version, settings=settings, clock=clock
    )


async def scan(
    *,
    admin_id: str,
    device_id: str,
    key: str | None,
    card_id: str,
    settings: Settings,
    clock: Clock,
) -> ScanResult:
    """A card held to the reader: start or queue its holder's run, or end it if open."""
    device, _ = await authenticate_device(admin_id=admin_id, device_id=device_id, key=key)
    card = card_id.strip().upper()
    if not 0 < len(card) <= MAX_CARD_LENGTH:
        raise BadUserInput(f"cardId is 1 to {MAX_CARD_LENGTH} characters")

    user = await User.find_one(User.admin_id == device.admin_id, User.rfid_card == card)
    if user is None:
        raise NotFound("no user of this tenant has that card")
    if user.suspended:
        raise Suspended("the card holder's account is suspended")
    assert user.id is not None

    existing = await queue.open_run_of(user.id)
    if existing is not None:
        run = await queue.stop_run(
            tenant_id=device.admin_id, user_id=user.id, settings=settings, clock=clock
        )
        left = existing.status is RunStatus.WAITING
        return ScanResult(ScanAction.LEFT_QUEUE if left else ScanAction.STOPPED, run)

    # A card has no keypad: the run lasts until the card is shown again or the balance ends.
    run = await queue.start_run(
        tenant_id=device.admin_id,
        user_id=user.id,
        minutes=queue.MAX_RUN_MINUTES,
        settings=settings,
        clock=clock,
    )
    started = run.status is not RunStatus.WAITING
    return ScanResult(ScanAction.STARTED if started else ScanAction.QUEUED, run)


def answer_for(
    tenant_id: PydanticObjectId,
    active: Run | None,
    *,
    version: int,
    settings: Settings,
    clock: Clock,
) -> PollAnswer:
    now = clock.now()
    state = "IDLE" if active is None else active.status.value
    return PollAnswer(
        admin_id=str(tenant_id),
        motor_on=active is not None and active.status is RunStatus.RUNNING,
        state=state,
        hold_reason=active.hold_reason.value if active and active.hold_reason else None,
        remaining_seconds=remaining_seconds(active, now) if active is not None else 0,
        lease_seconds=settings.lease_seconds,
        poll_seconds=settings.poll_seconds,
        seq=version,
        server_time=int(now.timestamp()),
    )


async def _record_report(
    device: Device, report: DeviceReport, *, settings: Settings, clock: Clock
) -> None:
    """Keep what the board reported, writing only on a change or once per poll interval."""
    now = clock.now()
    table = presence()
    # Asked before this poll is noted: was the board silent until now?
    back_online = device.marked_offline or not table.online(device, now, settings.offline_after)
    changes = report_changes(device, report)
    interval = timedelta(seconds=settings.poll_seconds)
    stale = device.last_seen_at is None or now - device.last_seen_at >= interval
    if not changes and not stale and not back_online:
        table.heard(device, now)
        return

    if back_online:
        log.info("device %s of tenant %s is online", device.device_id, device.admin_id)
    seen = {"last_seen_at": now, "marked_offline": False}
    if report.uptime_seconds is not None:
        seen["uptime_seconds"] = report.uptime_seconds
    await Device.get_pymongo_collection().update_one(
        {"_id": device.id}, {"$set": {**changes, **seen}}
    )
    table.heard(device, now, stored=now)
    # A mere refresh of last_seen is not announced: it happens every poll interval.
    if changes or back_online:
        await events.publish("device", device.admin_id, subject=device.device_id)


@dataclass(frozen=True, slots=True)
class Signals:
    """What is stored of a board's own reports, as a poll is compared with it."""

    load_shedding: bool | None
    ready: bool | None
    output_on: bool | None
    firmware: str | None
    uptime_seconds: int | None

    @classmethod
    def of(cls, device: Device) -> "Signals":
        return cls(
            device.load_shedding,
            device.ready,
            device.output_on,
            device.firmware,
            device.uptime_seconds,
        )


def report_changes(stored: Device | Signals, report: DeviceReport) -> dict[str, object]:
    """What the board reported that differs from what is stored.

    Uptime grows with every poll, so it counts as a change only when it went back (the
    board restarted) or was never stored; otherwise it is written with last-seen times.
    """
    reported = (
        ("load_shedding", report.load_shedding, stored.load_shedding),
        ("ready", report.ready, stored.ready),
        ("output_on", report.output_on, stored.output_on),
        ("firmware", report.firmware, stored.firmware),
    )
    changes: dict[str, object] = {
        field: value for field, value, known in reported if value is not None and known != value
    }
    uptime, known_uptime = report.uptime_seconds, stored.uptime_seconds
    if uptime is not None and (known_uptime is None or uptime < known_uptime):
        changes["uptime_seconds"] = uptime
    return changes


async def mark_silent_offline(*, settings: Settings, clock: Clock) -> int:
    """Announce boards that stopped polling; returns how many were newly marked offline.

    The stored times lag the boards' polls (see `pumppilot.presence`), so what the store
    calls silent is checked against the workers' presence first. Any worker's timer may
    do this: the conditional write lets one announcement win.
    """
    cutoff = clock.now() - settings.offline_after
    table = presence()
    candidates = (
        await Device.get_pymongo_collection()
        .find(
            {"marked_offline": False, "revoked": False, "last_seen_at": {"$lt": cutoff}},
            {"_id": 1, "admin_id": 1, "device_id": 1, "last_seen_at": 1},
        )
        .to_list()
    )
    marked = 0
    for board in candidates:
        seen = table.last_seen(str(board["_id"]), board["last_seen_at"])
        if seen is None or seen >= cutoff:
            continue
        tenant_id, device_id = board["admin_id"], board["device_id"]
        if await mark_offline(board["_id"], tenant_id, device_id, last_seen=seen, cutoff=cutoff):
            marked += 1
    return marked


async def mark_offline(
    board_id: PydanticObjectId,
    tenant_id: PydanticObjectId,
    device_id: str,
    *,
    last_seen: datetime,
    cutoff: datetime,
) -> bool:
    """Mark a board that no worker heard since `cutoff` offline, and announce it.

    The write is conditional, so of the workers and timers that try, one wins, and a
    board whose stored time says it polled since is left alone. The stored time only
    moves forward, to `last_seen`, the newest poll any worker shared.
    """
    result = await Device.get_pymongo_collection().update_one(
        {
            "_id": board_id,
            "marked_offline": False,
            "revoked": False,
            "last_seen_at": {"$lt": cutoff},
        },
        {"$set": {"marked_offline": True}, "$max": {"last_seen_at": last_seen}},
    )
    if not result.modified_count:
        return False

    log.info("device %s of tenant %s is offline", device_id, tenant_id)
    await events.publish("device", tenant_id, subject=device_id)
    return True
