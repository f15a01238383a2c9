"""The one source of time for the engines, so tests can move it instead of sleeping."""

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; used by tests and benchmarks."""

    def __init__(self, start: datetime | None = None) -> None:
        # Whole milliseconds, because that is all a stored BSON date keeps.
        initial = start or datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
        self._now = initial.replace(microsecond=initial.microsecond // 1000 * 1000)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
