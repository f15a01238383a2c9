"""Slowing down password guessing: growing delays per identifier and per client address."""

import logging
import math
from datetime import timedelta

from pymongo import ReturnDocument

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.errors import RateLimited
from pumppilot.models import LoginThrottle

log = logging.getLogger(__name__)

# One address may be a whole village behind one router, so it gets more free attempts.
ADDRESS_ALLOWANCE = 4
# Failures older than this are forgotten, so a mistyped password last week costs nothing.
FORGET_AFTER = timedelta(hours=1)


def throttle_keys(identifier: str, address: str | None) -> list[tuple[str, int]]:
    keys = [(f"id:{identifier}", 1)]
    if address:
        keys.append((f"ip:{address}", ADDRESS_ALLOWANCE))
    return keys


async def check(keys: list[tuple[str, int]], *, clock: Clock) -> None:
    """Refuse the attempt while any of its keys is locked."""
    now = clock.now()
    found = await LoginThrottle.find({"key": {"$in": [key for key, _ in keys]}}).to_list()
    waits = [entry.locked_until - now for entry in found if entry.locked_until is not None]
    longest = max(waits, default=timedelta(0))
    if longest > timedelta(0):
        seconds = math.ceil(longest.total_seconds())
        raise RateLimited(
            f"too many failed logins; try again in {seconds} seconds",
            retry_after_seconds=seconds,
        )


async def record_failure(keys: list[tuple[str, int]], *, settings: Settings, clock: Clock) -> None:
    now = clock.now()
    for key, allowance in keys:
        await LoginThrottle.get_pymongo_collection().update_one(
            {"key": key, "updated_at": {"$lt": now - FORGET_AFTER}},
            {"$set": {"failures": 0, "locked_until": None}},
        )
        raw = await LoginThrottle.get_pymongo_collection().find_one_and_update(
            {"key": key},
            {"$inc": {"failures": 1}, "$set": {"updated_at": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert raw is not None  # an upsert returning the document after always finds one
        delay = _delay(int(raw["failures"]), settings.login_free_attempts * allowance, settings)
        if delay:
            await LoginThrottle.get_pymongo_collection().update_one(
                {"key": key}, {"$set": {"locked_until": now + timedelta(seconds=delay)}}
            )
            log.warning("login throttled for %s seconds after %s failures", delay, raw["failures"])


async def record_success(identifier: str) -> None:
    await LoginThrottle.find({"key": f"id:{identifier}"}).delete()


def _delay(failures: int, free: int, settings: Settings) -> int:
    if failures < free:
        return 0
    return int(min(settings.login_max_delay_seconds, 2 ** (failures - free)))
