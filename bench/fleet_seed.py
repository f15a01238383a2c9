"""A fleet for `bench/poll.py`: many small tenants, a few of them running their pump.

A tenant has one motor and a few boards, so ten thousand boards are two thousand
tenants. The tenants with a run are made through the engines (an admin, a user with
minutes, a board, a RUNNING run); the others are written directly, since nobody signs
in to them. Boards are written directly too, with keys derived from their names.
"""

import math

from beanie import PydanticObjectId

from pumppilot.clock import SystemClock
from pumppilot.config import Settings
from pumppilot.engines import queue
from pumppilot.engines.devices import hash_key
from pumppilot.fleet import SimulatedBoard
from pumppilot.models import Admin, Device
from tests.factories import Tenant, make_tenant

BOARDS_PER_TENANT = 5
# The embedded store inserts a few hundred documents per command best.
INSERT_BATCH = 200
# Not an argon2 hash, so no password can match it: these tenants never sign in.
NO_PASSWORD = "!"  # noqa: S105


async def seed_fleet(devices: int, running: int, settings: Settings) -> list[SimulatedBoard]:
    clock = SystemClock()
    tenants = max(1, math.ceil(devices / BOARDS_PER_TENANT))
    running = min(running, tenants)

    boards: list[SimulatedBoard] = []
    busy: list[Tenant] = []
    for number in range(running):
        # Sign-in identifiers are unique across tenants.
        runner = f"runner{number:04}"
        tenant = await make_tenant(f"busy{number:04}", clock, balances={runner: 600})
        busy.append(tenant)
        boards.append(SimulatedBoard(str(tenant.id), tenant.device_id, tenant.device_key))

    quiet = [
        Admin(
            id=PydanticObjectId(),
            identifier=f"quiet{number:05}",
            name=f"Quiet {number}",
            password_hash=NO_PASSWORD,
            created_at=clock.now(),
        )
        for number in range(tenants - running)
    ]
    for start in range(0, len(quiet), INSERT_BATCH):
        await Admin.insert_many(quiet[start : start + INSERT_BATCH])

    tenant_ids = [tenant.id for tenant in busy]
    tenant_ids += [admin.id for admin in quiet if admin.id is not None]
    boards += _more_boards(tenant_ids, devices - len(boards))
    documents = [_document(board, clock) for board in boards[running:]]
    for start in range(0, len(documents), INSERT_BATCH):
        await Device.insert_many(documents[start : start + INSERT_BATCH])

    for tenant in busy:
        await queue.start_run(
            tenant_id=tenant.id,
            user_id=tenant.user_id(next(iter(tenant.users))),
            minutes=600,
            settings=settings,
            clock=clock,
        )
    return boards


def _more_boards(tenant_ids: list[PydanticObjectId], count: int) -> list[SimulatedBoard]:
    """`count` more boards, dealt to the tenants in turn."""
    boards = []
    for number in range(count):
        tenant_id = tenant_ids[number % len(tenant_ids)]
        name = f"board-{number:05}"
        boards.append(SimulatedBoard(str(tenant_id), name, f"ppd_bench_{number:05}"))
    return boards


def _document(board: SimulatedBoard, clock: SystemClock) -> Device:
    tenant_id = PydanticObjectId(board.admin_id)
    return Device(
        admin_id=tenant_id,
        device_id=board.device_id,
        board_key=Device.key_of(tenant_id, board.device_id),
        name=board.device_id,
        key_hash=hash_key(board.key),
        created_at=clock.now(),
        last_seen_at=clock.now(),
        load_shedding=False,
        ready=True,
        output_on=False,
        firmware="sim-1",
        uptime_seconds=1,
    )
