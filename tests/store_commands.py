"""Counting the commands the app sends to the store, to test what a request costs."""

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import monitoring

WRITES = frozenset({"insert", "update", "delete", "findAndModify"})


class CommandCounter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.counting = False
        self.commands: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting:
            self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextmanager
    def counted(self) -> Iterator[list[str]]:
        """The commands sent while the block runs."""
        self.commands, self.counting = [], True
        try:
            yield self.commands
        finally:
            self.counting = False


# pymongo has no way to remove a listener; this one stays registered, idle, for the run.
# Only clients created after this import are counted, which the app's are.
counter = CommandCounter()
monitoring.register(counter)
