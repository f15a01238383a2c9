"""Arithmetic on a run's stored fields: what it has run, what is left, when it must end.

Everything is derived from stored timestamps rather than counters in memory, so a
restart neither loses nor double-counts a second.
"""

import math
from datetime import datetime

from pumppilot.models import EndReason, Run, RunStatus


def seconds_run(run: Run, now: datetime) -> int:
    """Whole seconds the run has spent RUNNING up to `now`."""
    if run.status is not RunStatus.RUNNING or run.running_since is None:
        return run.accrued_seconds

    elapsed = max(0.0, (now - run.running_since).total_seconds())
    return run.accrued_seconds + math.floor(elapsed)


def chargeable_seconds(run: Run, now: datetime) -> int:
    """Seconds to charge if the run ended at `now`: never past the limit set at start."""
    return min(seconds_run(run, now), run.limit_seconds)


def remaining_seconds(run: Run, now: datetime) -> int:
    return max(0, run.limit_seconds - seconds_run(run, now))


def limit_reason(run: Run) -> EndReason:
    """Why the run ends by itself: the time asked for, or the balance running out."""
    if run.limit_seconds >= run.requested_seconds:
        return EndReason.DURATION_REACHED
    return EndReason.BALANCE_EXHAUSTED
