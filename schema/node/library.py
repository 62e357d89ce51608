"""The city node's read of its licence library by holder, for the hub: a person's or
an enterprise's licences in force (and those an application names), every column, so
that the node receiving their case — which does not keep the library — decides with
them as the city's store would (``levels/licences/held.py``). Merged into the node's
``Query`` (``schema/node/__init__.py``)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from levels.licences.held import read_held
from levels.licences.models import ELicence
from schema.node.lists import city_only
from schema.node.types import NodeInfo, Record, records


@strawberry.type(name="LibraryQuery", description="The licence library, by holder")
class LibraryQueries:
    @strawberry.field(
        description="A holder's licences in the licence library (电子证照库): those VALID or "
        "SUSPENDED in it, and the licences `named` (an application's, whoever holds them), "
        "newest first, every column, in one statement; only the node holding the city keeps "
        "the library: DIVISION_NOT_OWNED elsewhere"
    )
    async def licences_of_holder(
        self,
        info: NodeInfo,
        holder: Annotated[str, strawberry.argument(description="The holder's account id")],
        named: Annotated[
            list[str] | None, strawberry.argument(description="Licence identifiers named")
        ] = None,
    ) -> list[Record]:
        city_only(info, "licencesOfHolder", "library")
        async with info.context.reading() as session:
            found = await read_held(session, holder, named or [])
        return records(ELicence, found)
