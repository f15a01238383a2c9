"""Documents: how big they may be, and the cache of those already parsed.

The size rules are built once, here: Strawberry's limiter extensions build a new rule
class for every request, which would make every request miss the validation cache.
"""

import contextlib
from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, parse
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

MAX_DEPTH = 8
MAX_ALIASES = 20
MAX_TOKENS = 2000
# Distinct documents kept parsed and validated; clients send a handful, attackers many.
CACHED_DOCUMENTS = 256

_RULES: list[type[ASTValidationRule]] = [depth_rule(MAX_DEPTH, None), aliases_rule(MAX_ALIASES)]


class DocumentLimits(AddValidationRules):
    """Refuses documents nested deeper than MAX_DEPTH or with more than MAX_ALIASES."""

    def __init__(self) -> None:
        super().__init__(_RULES)


_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


def parsed(query: str) -> DocumentNode:
    """The document, parsed once per text with the token limit; GraphQLError if it is bad.

    The same cache the schema's parsing step uses, so a document is parsed once whoever
    asks first.
    """
    return _parse(query, max_tokens=MAX_TOKENS)


class ParsedDocuments(SchemaExtension):
    """Parses each distinct document once (bounded), with the same options and limits.

    Unlike Strawberry's ParserCache, a document that fails to parse is left to Strawberry,
    so its error takes the usual path and leaves with its usual code.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = _parse(context.query, **context.parse_options)
        yield
