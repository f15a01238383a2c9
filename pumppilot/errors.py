"""Domain errors: each carries a stable code that every channel passes on unchanged."""


class PumpPilotError(Exception):
    """Base of every error a caller may see; `code` is part of the public contract."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(PumpPilotError):
    code = "UNAUTHENTICATED"


class Forbidden(PumpPilotError):
    code = "FORBIDDEN"


class NotFound(PumpPilotError):
    code = "NOT_FOUND"


class BadUserInput(PumpPilotError):
    code = "BAD_USER_INPUT"


class Conflict(PumpPilotError):
    code = "CONFLICT"


class InsufficientBalance(PumpPilotError):
    code = "INSUFFICIENT_BALANCE"


class Suspended(PumpPilotError):
    code = "SUSPENDED"
