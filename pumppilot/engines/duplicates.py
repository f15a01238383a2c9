"""Recognising which unique index refused a write."""

from pymongo.errors import DuplicateKeyError


def violated_index(error: DuplicateKeyError) -> str:
    """The name of the index behind a duplicate-key error, or '' when the server omits it."""
    message = str((error.details or {}).get("errmsg", error))
    _, found, rest = message.partition(" index: ")
    return rest.split(" ", 1)[0] if found else ""
