"""Domain errors: each carries a stable code that every channel passes on unchanged."""


class PumpPilotError(Exception):
    """Base of every error a caller may see; `code` is part of the public contract."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, object]:
        """What GraphQL errors carry under `extensions`."""
        return {"code": self.code}


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


class RateLimited(PumpPilotError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "retryAfterSeconds": self.retry_after_seconds}
