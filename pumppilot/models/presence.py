"""What one worker has heard from the boards: the last poll of each, by board."""

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel


class WorkerPresence(Document):
    """One document per worker process, replaced whole at each flush.

    `seen` maps a board's document id (hex) to the time of its last poll on this worker.
    A fleet's polls thus cost the store one write per flush, however many boards there
    are; each board's own `last_seen_at` is a slower, durable copy.
    """

    worker: str
    written_at: datetime
    seen: dict[str, datetime]

    class Settings:
        name = "worker_presence"
        indexes = [IndexModel([("worker", ASCENDING)], unique=True, name="worker")]
