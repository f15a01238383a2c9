"""Builds an attack on every field of the exported schema, from the schema alone.

For each field it writes a document that calls the field with the victim tenant's ids
wherever an argument takes an ID, harmless values elsewhere, and a selection of every
scalar below it, so that anything the call leaks would show in the answer. A field added
to the schema is attacked without any change here.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_schema,
    get_named_type,
    is_non_null_type,
)
from graphql.language import EnumValueNode, ListValueNode

SDL_FILE = Path(__file__).parents[2] / "schema" / "schema.graphql"
ROOTS = ("Query", "Mutation", "Subscription")
# Arguments that page through the caller's own results rather than name an object.
CURSOR_ARGUMENTS = frozenset({"before", "after"})
SELECTION_DEPTH = 2
HARMLESS_STRING = "attack-value-1"
HARMLESS_INT = 5


@dataclass(frozen=True)
class Attack:
    root: str
    field: str
    roles: frozenset[str] | None  # None: anyone may call it
    document: str
    variables: dict[str, Any]
    names_victim: bool

    @property
    def label(self) -> str:
        return f"{self.root}.{self.field}({', '.join(sorted(self.variables))})"


@cache
def _schema() -> GraphQLSchema:
    return build_schema(SDL_FILE.read_text())


def fields() -> list[tuple[str, str]]:
    """Every (root, field) of the exported schema."""
    found = []
    for root_name in ROOTS:
        root = _schema().get_type(root_name)
        if isinstance(root, GraphQLObjectType):
            found += [(root_name, name) for name in root.fields]
    return found


def attacks_on(root: str, name: str, victim_ids: list[str]) -> Iterator[Attack]:
    root_type = _schema().get_type(root)
    assert isinstance(root_type, GraphQLObjectType)
    yield from _field_attacks(root, name, root_type.fields[name], victim_ids)


def declared_roles(definition: GraphQLField) -> frozenset[str] | None:
    """The roles in the field's @access directive; fails when a field declares none."""
    node = definition.ast_node
    assert node is not None
    for directive in node.directives or ():
        if directive.name.value != "access":
            continue
        for argument in directive.arguments:
            value = argument.value
            assert isinstance(value, ListValueNode)
            roles = frozenset(
                item.value for item in value.values if isinstance(item, EnumValueNode)
            )
            return roles or None
    raise AssertionError(f"field {node.name.value} declares no @access: every field must")


def _field_attacks(
    root: str, name: str, definition: GraphQLField, victim_ids: list[str]
) -> Iterator[Attack]:
    roles = declared_roles(definition)
    id_arguments = [
        arg_name
        for arg_name, argument in definition.args.items()
        if _named(argument) == "ID" and arg_name not in CURSOR_ARGUMENTS
    ]
    base = {
        arg_name: _harmless(argument)
        for arg_name, argument in definition.args.items()
        if is_non_null_type(argument.type) and argument.default_value is Undefined
    }
    base = {key: value for key, value in base.items() if value is not None}

    if not id_arguments:
        yield _attack(root, name, definition, roles, base, names_victim=False)
        return

    for arg_name in id_arguments:
        for victim_id in victim_ids:
            variables = {**base, arg_name: victim_id}
            for other in id_arguments:
                if other != arg_name and other in variables:
                    variables[other] = victim_id
            yield _attack(root, name, definition, roles, variables, names_victim=True)


def _attack(
    root: str,
    name: str,
    definition: GraphQLField,
    roles: frozenset[str] | None,
    variables: dict[str, Any],
    *,
    names_victim: bool,
) -> Attack:
    declarations = ", ".join(f"${arg}: {definition.args[arg].type}" for arg in sorted(variables))
    arguments = ", ".join(f"{arg}: ${arg}" for arg in sorted(variables))
    operation = {"Query": "query", "Mutation": "mutation", "Subscription": "subscription"}[root]
    head = f"{operation}({declarations})" if declarations else operation
    call = f"{name}({arguments})" if arguments else name
    document = f"{head} {{ {call} {_selection(definition.type, SELECTION_DEPTH)} }}"
    return Attack(root, name, roles, document, variables, names_victim)


def _named(argument: GraphQLArgument) -> str:
    return get_named_type(argument.type).name


def _harmless(argument: GraphQLArgument) -> Any:
    named = get_named_type(argument.type)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLScalarType):
        return {
            "ID": "0" * 24,
            "String": HARMLESS_STRING,
            "Int": HARMLESS_INT,
            "Float": float(HARMLESS_INT),
            "Boolean": True,
        }.get(named.name)
    return None


def _selection(output: Any, depth: int) -> str:
    named: GraphQLNamedType = get_named_type(output)
    if not isinstance(named, GraphQLObjectType):
        return ""

    parts = ["__typename"]
    for name, definition in named.fields.items():
        if any(is_non_null_type(arg.type) for arg in definition.args.values()):
            continue
        inner = get_named_type(definition.type)
        if isinstance(inner, GraphQLObjectType):
            if depth > 0:
                parts.append(f"{name} {_selection(definition.type, depth - 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"
