"""PumpPilot: shared water pumps with a fair queue, prepaid minutes and a fail-safe motor."""

__version__ = "0.1.0"
