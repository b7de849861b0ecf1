"""A small schema for tests of the limits: pages, a bulk mutation, enums, inputs, a fault."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.limits.cost import field_cost
from api.resolvers.arguments import page_size
from api.schema.root import schema_extensions
from api.settings import Settings

# Counts resolver calls, so that a test can prove a refused query never executed.
CALLS: list[str] = []


@strawberry.enum
class Color(Enum):
    RED = "RED"
    GREEN = "GREEN"


@strawberry.input
class Filter:
    color: Color
    name: str | None = None


@strawberry.type
class Item:
    id: int
    name: str


@strawberry.type
class ItemEdge:
    cursor: str
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]
    total_count: int


def _page(first: int) -> ItemConnection:
    CALLS.append("items")
    items = [Item(id=i, name=f"item {i}") for i in range(first)]
    return ItemConnection(
        edges=[ItemEdge(cursor=str(item.id), node=item) for item in items], total_count=1000
    )


@strawberry.type
class Query:
    @strawberry.field
    def items(self, first: int | None = 10, after: str | None = None) -> ItemConnection:
        return _page(10 if first is None else page_size(first))

    @strawberry.field
    def everything(self, first: int | None = None) -> ItemConnection:
        return _page(100 if first is None else page_size(first))

    @strawberry.field
    def count(self, color: Color, filter: Filter | None = None) -> int:
        CALLS.append("count")
        return 1

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("password=hunter2 in SELECT * FROM candidates")


@strawberry.input
class BulkInput:
    items: list[str]


@strawberry.type
class Outcome:
    index: int
    status: str


@strawberry.type
class BulkPayload:
    outcomes: list[Outcome]


@strawberry.type
class Mutation:
    @strawberry.mutation(metadata=field_cost(size_from="input.items", per_item=1))
    def bulk(self, input: BulkInput) -> BulkPayload:
        CALLS.append("bulk")
        return BulkPayload(
            outcomes=[Outcome(index=i, status="CREATED") for i, _ in enumerate(input.items)]
        )


def build_test_schema(settings: Settings) -> strawberry.Schema:
    return strawberry.Schema(query=Query, mutation=Mutation, extensions=schema_extensions(settings))
