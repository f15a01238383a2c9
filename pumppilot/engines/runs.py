"""Arithmetic on a run's stored fields: what it has run, what is left, when it must end.

Everything is derived from stored timestamps rather than counters in memory, so a
restart neither loses nor double-counts a second.
"""

from datetime import datetime, timedelta

from pumppilot.models import EndReason, Run, RunStatus


def _ms(span: timedelta) -> int:
    return max(0, round(span.total_seconds() * 1000))


def ms_run(run: Run, now: datetime) -> int:
    """Milliseconds the run has spent RUNNING up to `now`."""
    if run.status is not RunStatus.RUNNING or run.running_since is None:
        return run.accrued_ms
    return run.accrued_ms + _ms(now - run.running_since)


def seconds_run(run: Run, now: datetime) -> int:
    """Whole seconds the run has spent RUNNING up to `now`, rounded down."""
    return ms_run(run, now) // 1000


def seconds_held(run: Run, now: datetime) -> int:
    held = run.held_ms
    if run.status is RunStatus.HOLD and run.held_since is not None:
        held += _ms(now - run.held_since)
    return held // 1000


def chargeable_seconds(run: Run, now: datetime) -> int:
    """Seconds to charge if the run ended at `now`: never past the limit set at start."""
    return min(seconds_run(run, now), run.limit_seconds)


def remaining_seconds(run: Run, now: datetime) -> int:
    return max(0, run.limit_seconds - seconds_run(run, now))


def deadline(run: Run) -> datetime | None:
    """When a RUNNING run reaches its limit, if nothing pauses it first."""
    if run.status is not RunStatus.RUNNING or run.running_since is None:
        return None
    return run.running_since + timedelta(milliseconds=run.limit_seconds * 1000 - run.accrued_ms)


def limit_reason(run: Run) -> EndReason:
    """Why the run ends by itself: the time asked for, or the balance running out."""
    if run.limit_seconds >= run.requested_seconds:
        return EndReason.DURATION_REACHED
    return EndReason.BALANCE_EXHAUSTED
