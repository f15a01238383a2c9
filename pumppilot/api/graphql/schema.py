"""The Strawberry schema, built once."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from pumppilot.api.graphql.errors import ErrorCodes, is_unexpected
from pumppilot.api.graphql.mutations import Mutation
from pumppilot.api.graphql.queries import Query

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
    return PumpPilotSchema(query=Query, mutation=Mutation, extensions=[ErrorCodes])


schema = build_schema()
