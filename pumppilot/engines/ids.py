"""Turning ids that callers send into document ids."""

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from pumppilot.errors import BadUserInput


def parse_id(value: str, *, what: str) -> PydanticObjectId:
    try:
        return PydanticObjectId(ObjectId(value))
    except (InvalidId, TypeError) as exc:
        raise BadUserInput(f"{what} {value!r} is not a valid id") from exc


def parse_optional_id(value: str | None, *, what: str) -> PydanticObjectId | None:
    return None if value is None else parse_id(value, what=what)
