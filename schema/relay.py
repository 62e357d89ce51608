"""Relay building blocks: the ``Node`` interface and cursor connections."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import strawberry

from auth.policy import Resource, Target
from resolvers.pagination import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.interface(description="An object with an opaque global ID (Relay).")
class Node:
    id: strawberry.ID = strawberry.field(description="The opaque global ID: type, level and key")

    def authz_target(self) -> Target:
        """What the policy table needs to know to let a viewer read this object:
        catalogue objects are public; types that are not override this."""
        return Target(Resource.CATALOGUE)


@strawberry.type(description="Where a page of a list stands (Relay)")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page")
    has_previous_page: bool = strawberry.field(description="Items come before this page")
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first item of the page"
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item: pass it as `after` for the next page"
    )


@strawberry.type(description="One item of a page, with its cursor (Relay)")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Where this item stands: pass it as `after` to continue from here"
    )
    node: T = strawberry.field(description="The item")

    def authz_parts(self) -> Iterable[object]:
        """Checked with its connection (``auth/permissions.py``)."""
        return (self.node,)


@strawberry.type(
    description="A page of a list (Relay cursor connection): `first` items at most, "
    "after the cursor `after`"
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of the page, with cursors")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow")

    @strawberry.field(description="The items of the page, without cursors")
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]

    def authz_parts(self) -> Iterable[object]:
        """Its items: checked when the field that returns the page answers."""
        return [e.node for e in self.edges]


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [_edge(c, convert(item)) for item, c in zip(page.items, page.cursors, strict=True)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def _edge(cursor: str, node: object) -> Edge[Any]:
    """``Edge(cursor=cursor, node=node)``: its attributes set without the dataclass's
    ``__init__`` call (a page of 50 made 50 calls of keywords)."""
    edge: Edge[Any] = object.__new__(Edge)
    attributes = edge.__dict__
    attributes["cursor"] = cursor
    attributes["node"] = node
    return edge
