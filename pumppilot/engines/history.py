"""Reading the past: ledger entries and finished runs, newest first, a page at a time."""

from beanie import PydanticObjectId

from pumppilot.engines.caller import Caller
from pumppilot.engines.ids import parse_id, parse_optional_id
from pumppilot.errors import NotFound
from pumppilot.models import LedgerEntry, Role, UsageRecord, User

MAX_PAGE = 200


async def whose(caller: Caller, user_id: str | None) -> PydanticObjectId:
    """The user whose history the caller may read: their own, or one of an admin's users."""
    if caller.role is Role.USER:
        if user_id is not None and user_id != str(caller.account_id):
            raise NotFound("no such user")
        return caller.account_id

    caller.require(Role.ADMIN)
    if user_id is None:
        raise NotFound("name the user with userId")
    user = await User.get(parse_id(user_id, what="userId"))
    if user is None or user.admin_id != caller.own_tenant():
        raise NotFound("no such user")
    assert user.id is not None
    return user.id


async def ledger(user_id: PydanticObjectId, *, limit: int, before: str | None) -> list[LedgerEntry]:
    filters: dict[str, object] = {"user_id": user_id}
    cursor = parse_optional_id(before, what="before")
    if cursor is not None:
        filters["_id"] = {"$lt": cursor}
    return await LedgerEntry.find(filters).sort("-_id").limit(_page(limit)).to_list()


async def usage(user_id: PydanticObjectId, *, limit: int, before: str | None) -> list[UsageRecord]:
    filters: dict[str, object] = {"user_id": user_id}
    cursor = parse_optional_id(before, what="before")
    if cursor is not None:
        filters["_id"] = {"$lt": cursor}
    return await UsageRecord.find(filters).sort("-_id").limit(_page(limit)).to_list()


def _page(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE))
