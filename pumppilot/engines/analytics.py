"""Usage added up per day: for one user, or for a whole tenant."""

import re
from dataclasses import dataclass

from pumppilot.engines.caller import Caller
from pumppilot.engines.history import whose
from pumppilot.engines.tenancy import tenant_for
from pumppilot.errors import BadUserInput
from pumppilot.models import Role, UsageRecord

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_PAGE = 366


@dataclass(frozen=True)
class DailyUsage:
    date: str
    runs: int
    seconds_run: int
    seconds_held: int
    charged_seconds: int


async def daily_usage(
    caller: Caller,
    *,
    tenant_id: str | None,
    user_id: str | None,
    before: str | None,
    limit: int,
) -> list[DailyUsage]:
    """Newest day first, `limit` days a page; the next page starts before the last date.

    A user sees their own days; an admin their tenant's, or one user's with `user_id`;
    the master a named tenant's.
    """
    if before is not None and not DATE.fullmatch(before):
        raise BadUserInput("before is a date written YYYY-MM-DD")

    match: dict[str, object] = {}
    tenant = await tenant_for(caller, tenant_id) if tenant_id is not None else None
    if caller.role is Role.USER or user_id is not None:
        owner = await whose(caller, user_id)
        match["user_id"] = owner
    else:
        match["admin_id"] = tenant or await tenant_for(caller, tenant_id)
    if before is not None:
        match["date"] = {"$lt": before}

    return await _days(match, limit=max(1, min(limit, MAX_PAGE)))


async def _days(match: dict[str, object], *, limit: int) -> list[DailyUsage]:
    pipeline: list[dict[str, object]] = [
        {"$match": match},
        {
            "$group": {
                "_id": "$date",
                "runs": {"$sum": 1},
                "seconds_run": {"$sum": "$seconds_run"},
                "seconds_held": {"$sum": "$seconds_held"},
                "charged_seconds": {"$sum": "$charged_seconds"},
            }
        },
        {"$sort": {"_id": -1}},
        {"$limit": limit},
    ]
    cursor = await UsageRecord.get_pymongo_collection().aggregate(pipeline)
    return [
        DailyUsage(
            date=str(row["_id"]),
            runs=int(row["runs"]),
            seconds_run=int(row["seconds_run"]),
            seconds_held=int(row["seconds_held"]),
            charged_seconds=int(row["charged_seconds"]),
        )
        async for row in cursor
    ]
