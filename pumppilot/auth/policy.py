"""What a new password must be, after NIST SP 800-63B: long enough, and not a common one."""

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from pumppilot.errors import BadUserInput

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 3


@cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords seen in public breaches.
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, identifier: str) -> None:
    """Refuse a password a person or a guessing script would try first."""
    if len(password) < MIN_LENGTH:
        raise BadUserInput(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise BadUserInput(f"a password has at most {MAX_LENGTH} characters")

    lowered = password.lower()
    if lowered in _common_passwords():
        raise BadUserInput("this password is among the most common ones; choose another")
    if identifier and identifier.lower() in lowered:
        raise BadUserInput("a password must not contain the login identifier")
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise BadUserInput("a password needs more than two different characters")
