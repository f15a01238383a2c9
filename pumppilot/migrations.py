"""Bringing a store written by an older PumpPilot up to date, before Beanie sees it.

Each step is safe to run again, so a worker that starts while another migrates, or one
killed half-way, leaves the store as a finished migration would.
"""

import contextlib
import logging
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

log = logging.getLogger(__name__)

DEVICES = "devices"
# Boards were once unique by (admin_id, device_id); `board_key` holds that now.
OLD_DEVICE_INDEX = "tenant_device"


async def migrate(database: AsyncDatabase[dict[str, Any]]) -> None:
    await _key_boards(database)


async def _key_boards(database: AsyncDatabase[dict[str, Any]]) -> None:
    devices = database[DEVICES]
    keyless = devices.find({"board_key": {"$exists": False}}, {"admin_id": 1, "device_id": 1})
    keyed = 0
    async for raw in keyless:
        await devices.update_one(
            {"_id": raw["_id"]}, {"$set": {"board_key": f"{raw['admin_id']}/{raw['device_id']}"}}
        )
        keyed += 1
    if keyed:
        log.info("gave %d boards their board_key", keyed)

    indexes = await devices.index_information()
    if OLD_DEVICE_INDEX in indexes:
        # Another worker may drop it first.
        with contextlib.suppress(OperationFailure):
            await devices.drop_index(OLD_DEVICE_INDEX)
