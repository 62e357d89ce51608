"""The node's mutation of the catalogue, for the hub: publishing it as the next version
(``publishCatalogue``), at the node holding the city level, which keeps the catalogue
(``levels/node/catalogue.py``). Merged into the node's ``Mutation`` in
``schema/node/__init__.py``."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from levels.city.models import CataloguePublication
from levels.common.reads import table
from levels.common.rowcodec import encode_row
from levels.node import catalogue
from schema.node.mutation import ActorInput, HubNow, StepRefusal, _refusal
from schema.node.types import NodeInfo


@strawberry.type(description="What became of a publication of the catalogue")
class PublicationResult:
    columns: JSON | None = strawberry.field(
        description="The publication, every column (none: refused, nothing written)"
    )
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(name="CatalogueMutation", description="The catalogue the city node keeps")
class CatalogueMutations:
    @strawberry.mutation(
        description="集中公布: publish the catalogue of `city` as it stands as the next "
        "version (`urgent`: an adjustment outside the batch, with `reason`), by `actor`. "
        "Who may is the hub's check. DIVISION_NOT_OWNED for a city this node does not keep"
    )
    async def publish_catalogue(
        self,
        info: NodeInfo,
        city: Annotated[str, strawberry.argument(description="The city's division code")],
        urgent: bool,
        actor: ActorInput,
        now: HubNow,
        reason: str | None = None,
    ) -> PublicationResult:
        context = info.context
        outcome = await catalogue.publish(
            context.sessions, context.scope, city, urgent=urgent, reason=reason,
            by=actor.id, now=now,
        )  # fmt: skip
        row = outcome.value
        return PublicationResult(
            columns=None
            if row is None
            else cast(JSON, encode_row(table(CataloguePublication), row)),
            error=_refusal(outcome.error, context.locale),
        )
