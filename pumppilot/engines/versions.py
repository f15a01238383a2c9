"""The tenant's queue version: bumped on every queue transition, announced to listeners."""

from beanie import PydanticObjectId

from pumppilot import events
from pumppilot.models import Admin


async def bump(tenant_id: PydanticObjectId) -> None:
    # Boards use the version as `seq`, to spot stale or reordered answers.
    await Admin.get_pymongo_collection().update_one(
        {"_id": tenant_id}, {"$inc": {"queue_version": 1}}
    )
    await events.publish("queue", tenant_id)
