"""Telling a shutdown from a failure in background loops."""

import asyncio


def stopping() -> bool:
    """Whether the running task is being cancelled.

    pymongo reports an operation cancelled at shutdown as an error of its own, so a loop
    that logs its errors asks this first: stopping is no failure.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
