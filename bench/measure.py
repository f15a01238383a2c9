"""What the benchmarks read about a server process, and how they summarise timings."""

import os
import statistics
from dataclasses import dataclass

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    """A running process on this machine, read through /proc."""

    pid: int

    def resident_bytes(self) -> int:
        with open(f"/proc/{self.pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_BYTES

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            # The command name may hold spaces, so count fields from its closing bracket.
            fields = stat.read().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])
        return (user + system) / TICKS_PER_SECOND


def quantile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]
