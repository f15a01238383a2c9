"""Slowing down password guessing: growing delays per identifier and per client address.

Per identifier, each attempt is claimed before its password is checked, with a
compare-and-set on the attempt count, so guesses at one account sent in parallel are
counted (and refused) like guesses sent one after another.

Per address, only failures count, after the check: a whole village behind one router
may log in at the same moment, and those successes must not lock each other out. The
address limit is the second line; the identifier limit is the one that holds.
"""

import logging
import math
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from pumppilot.clock import Clock
from pumppilot.config import Settings
from pumppilot.errors import RateLimited
from pumppilot.models import LoginThrottle

log = logging.getLogger(__name__)

# One address may be a whole village behind one router, so it gets more free attempts.
ADDRESS_ALLOWANCE = 4
# Attempts older than this are forgotten, so a mistyped password last week costs nothing.
FORGET_AFTER = timedelta(hours=1)
CLAIM_TRIES = 8

Key = tuple[str, int]


def throttle_keys(identifier: str, address: str | None) -> list[Key]:
    keys = [(f"id:{identifier}", 1)]
    if address:
        keys.append((f"ip:{address}", ADDRESS_ALLOWANCE))
    return keys


async def claim(keys: list[Key], *, settings: Settings, clock: Clock) -> None:
    """Refuse the attempt while any key is locked; count it against its identifier."""
    now = clock.now()
    for key, allowance in keys:
        free = settings.login_free_attempts * allowance
        if _per_identifier(key):
            await _count(key, free, settings, now)
        else:
            await _refuse_if_locked(key, now)


async def failed(keys: list[Key], *, settings: Settings, clock: Clock) -> None:
    """A wrong password: count it against its address too."""
    for key, allowance in keys:
        if not _per_identifier(key):
            await _count(key, settings.login_free_attempts * allowance, settings, clock.now())


async def succeeded(keys: list[Key]) -> None:
    """A right password: its identifier starts afresh."""
    for key, _ in keys:
        if _per_identifier(key):
            await LoginThrottle.find(LoginThrottle.key == key).delete()


def _per_identifier(key: str) -> bool:
    return key.startswith("id:")


async def _refuse_if_locked(key: str, now: datetime) -> None:
    entry = await LoginThrottle.find_one(LoginThrottle.key == key)
    if entry is not None and entry.locked_until is not None and entry.locked_until > now:
        _refuse(entry.locked_until - now)


async def _count(key: str, free: int, settings: Settings, now: datetime) -> None:
    """Add one attempt to `key` by compare-and-set, refusing it while the key is locked."""
    collection = LoginThrottle.get_pymongo_collection()
    for _ in range(CLAIM_TRIES):
        entry = await LoginThrottle.find_one(LoginThrottle.key == key)
        if entry is None:
            try:
                await LoginThrottle(key=key, failures=1, updated_at=now).insert()
            except DuplicateKeyError:
                continue
            return

        recent = entry.updated_at > now - FORGET_AFTER
        if recent and entry.locked_until is not None and entry.locked_until > now:
            _refuse(entry.locked_until - now)

        attempts = (entry.failures if recent else 0) + 1
        delay = _delay(attempts, free, settings)
        locked_until = now + timedelta(seconds=delay) if delay else None
        claimed = await collection.update_one(
            {"_id": entry.id, "failures": entry.failures, "updated_at": entry.updated_at},
            {"$set": {"failures": attempts, "locked_until": locked_until, "updated_at": now}},
        )
        if claimed.modified_count:
            if delay:
                log.warning("login throttled for %s s after %s attempts", delay, attempts)
            return

    # Many attempts for one key in the same instant: that is a burst, so refuse it.
    _refuse(timedelta(seconds=1))


def _refuse(wait: timedelta) -> None:
    seconds = max(1, math.ceil(wait.total_seconds()))
    raise RateLimited(
        f"too many failed logins; try again in {seconds} seconds", retry_after_seconds=seconds
    )


def _delay(attempts: int, free: int, settings: Settings) -> int:
    # The attempt after the free ones waits a second, the next two, then four, and so on.
    if attempts <= free:
        return 0
    return int(min(settings.login_max_delay_seconds, 2 ** (attempts - free - 1)))
