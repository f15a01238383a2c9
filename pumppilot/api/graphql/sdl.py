"""The schema as SDL text, the form that `schema/schema.graphql` keeps."""

from strawberry.printer import print_schema

from pumppilot.api.graphql.schema import schema


def current_sdl() -> str:
    return print_schema(schema) + "\n"
