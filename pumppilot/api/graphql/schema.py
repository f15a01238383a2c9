"""The Strawberry schema, built once."""

import logging
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter, ValidationCache
from strawberry.types import ExecutionContext

from pumppilot.api.graphql.documents import (
    CACHED_DOCUMENTS,
    MAX_TOKENS,
    DocumentLimits,
    ParsedDocuments,
)
from pumppilot.api.graphql.errors import ErrorCodes, is_unexpected
from pumppilot.api.graphql.introspection import AdminOnlyIntrospection
from pumppilot.api.graphql.mutations import Mutation
from pumppilot.api.graphql.queries import Query
from pumppilot.api.graphql.shared import SharingExecutor
from pumppilot.api.graphql.subscriptions import Subscription
from pumppilot.api.graphql.websocket_only import SubscriptionsOverWebSocketOnly

log = logging.getLogger(__name__)


class PumpPilotSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals and bad documents are answers, not faults: log only what is our bug.
        for error in errors:
            if is_unexpected(error):
                log.error("resolver failed: %s", error.message, exc_info=error.original_error)


def build_schema() -> strawberry.Schema:
    return PumpPilotSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        execution_context_class=SharingExecutor,
        extensions=[
            # Limits run during validation, so an abusive document is refused before
            # any resolver (or database call) runs.
            DocumentLimits,
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            # Bounded, and keyed by the document and the rules, so the limits above
            # still apply to a document served from the cache.
            ParsedDocuments,
            partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
            AdminOnlyIntrospection,
            SubscriptionsOverWebSocketOnly,
            ErrorCodes,
        ],
    )


schema = build_schema()
