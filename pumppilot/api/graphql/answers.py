"""Reusing a read-only answer within the second it was made, until the tenant changes.

A dashboard asks for the same queue, balances and boards again and again, often from
several screens. An answer to a document that reads only the fields below is kept for
the session that asked, and handed out again while the clock is in the same second and
the tenant's watch has heard no event at all. Anything else always runs.
"""

import json
from collections import OrderedDict
from functools import lru_cache

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType

from pumppilot.api.graphql.documents import parsed

# Root fields whose answers depend only on the caller, the tenant's state and the time.
REUSABLE_FIELDS = frozenset({"queue", "users", "devices", "me", "wallet", "__typename"})
MAX_ANSWERS = 2048

Key = tuple[str, str, str, str | None]
Stamp = tuple[int, int, int]


@lru_cache(maxsize=512)
def reusable(query: str, operation_name: str | None) -> bool:
    """Whether the operation only reads fields whose answers may be reused."""
    try:
        document = parsed(query)
    except GraphQLError:
        return False

    operations = [
        node for node in document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    if operation_name is not None:
        operations = [
            node for node in operations if node.name and node.name.value == operation_name
        ]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in REUSABLE_FIELDS
        for selection in operations[0].selection_set.selections
    )


def answer_key(session_id: str, query: str, variables: object, operation_name: str | None) -> Key:
    return (session_id, query, json.dumps(variables, sort_keys=True), operation_name)


class AnswerCache:
    def __init__(self) -> None:
        self._answers: OrderedDict[Key, tuple[Stamp, bytes]] = OrderedDict()

    def get(self, key: Key, stamp: Stamp) -> bytes | None:
        kept = self._answers.get(key)
        if kept is None or kept[0] != stamp:
            return None
        return kept[1]

    def put(self, key: Key, stamp: Stamp, body: bytes) -> None:
        self._answers[key] = (stamp, body)
        self._answers.move_to_end(key)
        if len(self._answers) > MAX_ANSWERS:
            self._answers.popitem(last=False)
