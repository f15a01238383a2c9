"""The embedded store: reached over the wire, durable on disk, enforcing our indexes."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from pumppilot.config import load_settings
from pumppilot.models import Admin, Run, RunStatus, status_fields
from pumppilot.store import Store, open_store


async def test_embedded_sqlite_keeps_data_across_a_restart(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path, mongodb_uri=None)
    now = datetime.now(UTC)

    first = await open_store(settings)
    assert first.embedded is not None
    await Admin(identifier="keeper", name="Keeper", password_hash="x", created_at=now).insert()
    await first.close()

    second = await open_store(settings)
    found = await Admin.find_one(Admin.identifier == "keeper")
    await second.close()

    assert (tmp_path / "pumppilot.sqlite").exists()
    assert found is not None
    assert found.name == "Keeper"


async def test_one_active_run_per_tenant_holds_against_thirty_racing_inserts(store: Store):
    admin = Admin(identifier="t", name="t", password_hash="x", created_at=datetime.now(UTC))
    await admin.insert()
    assert admin.id is not None

    async def insert_active(number: int) -> bool:
        run = Run(
            **status_fields(RunStatus.RUNNING),
            admin_id=admin.id,
            user_id=PydanticObjectId(),
            user_name=f"u{number}",
            ticket=number,
            requested_seconds=60,
            requested_at=datetime.now(UTC),
        )
        try:
            await run.insert()
        except DuplicateKeyError:
            return False
        return True

    outcomes = await asyncio.gather(*(insert_active(number) for number in range(30)))

    assert outcomes.count(True) == 1
    assert await Run.find({"admin_id": admin.id, "active": True}).count() == 1
