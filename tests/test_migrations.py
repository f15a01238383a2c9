"""A store written by an older PumpPilot opens as an up-to-date one, data intact."""

from datetime import UTC, datetime
from typing import Any

import pytest
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError

from pumppilot.config import Settings
from pumppilot.engines import devices
from pumppilot.models import Device
from pumppilot.store import open_store


async def test_boards_stored_before_board_keys_get_one_and_stay_unique(settings: Settings):
    tenant = ObjectId()
    old: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    boards = old[settings.database]["devices"]
    await boards.create_indexes(
        [
            IndexModel(
                [("admin_id", ASCENDING), ("device_id", ASCENDING)],
                unique=True,
                name="tenant_device",
            )
        ]
    )
    await boards.insert_many(
        [
            {
                "admin_id": tenant,
                "device_id": name,
                "name": name,
                "key_hash": devices.hash_key(f"key-{name}"),
                "created_at": datetime.now(UTC),
                "revoked": False,
                "marked_offline": False,
            }
            for name in ("pump-1", "pump-2")
        ]
    )
    await old.close()

    # Twice: a second worker starting on a migrated store finds nothing left to do.
    for _ in range(2):
        store = await open_store(settings)
        found = await devices.find_device(tenant, "pump-2")
        indexes = await Device.get_pymongo_collection().index_information()
        with pytest.raises(DuplicateKeyError):
            await Device(
                admin_id=tenant,
                device_id="pump-1",
                board_key=Device.key_of(tenant, "pump-1"),
                name="again",
                key_hash="x",
                created_at=datetime.now(UTC),
            ).insert()
        await store.close()

        assert found is not None
        assert found.name == "pump-2"
        assert found.key_hash == devices.hash_key("key-pump-2")
        assert "tenant_device" not in indexes
        assert indexes["board_key"]["unique"] is True
