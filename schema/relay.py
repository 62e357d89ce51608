"""Relay building blocks: the ``Node`` interface and cursor connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from auth.policy import Resource, Target
from resolvers.pagination import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.interface(description="An object with an opaque global ID (Relay).")
class Node:
    id: strawberry.ID

    def authz_target(self) -> Target:
        """What the policy table needs to know to let a viewer read this object:
        catalogue objects are public; types that are not override this."""
        return Target(Resource.CATALOGUE)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [
        Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
