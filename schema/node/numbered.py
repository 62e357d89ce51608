"""The rows a node's store numbers with an integer, by that number
(``levels/node/numbered.py``), merged into the node's ``Query``: what the hub asks the
nodes holding a level for a global ID of the previous release, which names a row by
its number in the level's store."""

from __future__ import annotations

from typing import Annotated

import strawberry

from levels.node import numbered
from levels.node.numbered import NumberedKind
from schema.node.types import NodeInfo

strawberry.enum(
    NumberedKind,
    description="The rows a store numbers with an integer: ratings (好差评), "
    "rectifications, complaints, queue tickets, appointment slots, appointments",
)


@strawberry.type(description="A row of this node's store by its number, and its public key")
class NumberedRow:
    number: int = strawberry.field(description="The row's number in this store")
    public_id: str = strawberry.field(
        description="Its public key (`<division code>-<32 hex digits>`), by which the "
        "node's other reads and writes name it"
    )


@strawberry.type(name="NumberedQuery", description="Rows by their number in this store")
class NumberedQueries:
    @strawberry.field(
        description="The rows of one kind this node's store numbers so, each with its "
        "public key, by number (one statement); a number it does not give is not "
        "answered. What the hub asks of every node holding a level for an ID of the "
        "previous release"
    )
    async def public_ids(
        self,
        info: NodeInfo,
        of: Annotated[NumberedKind, strawberry.argument(description="Which rows")],
        numbers: Annotated[
            list[int], strawberry.argument(description="Their numbers in this store")
        ],
    ) -> list[NumberedRow]:
        async with info.context.reading() as session:
            found = await numbered.public_ids(of, numbers, session=session)
        return [NumberedRow(number=n, public_id=key) for n, key in found]
