"""Resolvers of the lists' publication (000: "于6月、12月…集中公布1次"): ``publishCatalogue``
writes a new version in the city's store, which owns the catalogue; ``catalogueVersions``
reads every published version back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action, Resource, Target, require
from levels.city import publication as service
from levels.city.errors import CatalogueErrorCode
from levels.city.models import CataloguePublication as PublicationRow
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.models import Division
from resolvers import remote_lists
from resolvers.fanout import call_api, call_node
from schema.info import Info
from schema.payloads import user_errors
from schema.publication import (
    CataloguePublication,
    CataloguePublicationPayload,
    PublishCatalogueInput,
)


async def publish(info: Info, input: PublishCatalogueInput) -> CataloguePublicationPayload:
    ctx = info.context
    try:
        async with ctx.nodes.single(Level.CITY).sessions.begin() as session:
            city = await session.scalar(select(Division.code).where(Division.level == Level.CITY))
            require(ctx.viewer, Action.PUBLISH_CATALOGUE, Target(Resource.CATALOGUE, city))
            row = await service.publish_catalogue(
                session=session,
                now=ctx.clock.now(),
                by=ctx.viewer.subject or "",
                urgent=input.urgent,
                reason=input.reason,
            )
    except IntegrityError:
        # another publication took this version number first
        error = DomainError(CatalogueErrorCode.PUBLICATION_CONFLICT)
        return CataloguePublicationPayload(errors=user_errors(error, ctx.locale))
    except DomainError as e:
        return CataloguePublicationPayload(errors=user_errors(e, ctx.locale))
    return CataloguePublicationPayload(publication=CataloguePublication.from_row(row))


async def versions(info: Info, version: int | None) -> list[CataloguePublication]:
    ctx = info.context

    async def fetch(_node: Any, session: AsyncSession) -> Sequence[PublicationRow]:
        return await service.publications(session=session, version=version)

    timeout = ctx.settings.node_timeout_seconds
    city = ctx.sessions.nodes[Level.CITY]
    rows: Sequence[PublicationRow]
    if city.client is not None:
        rows = await call_api(
            ctx.sessions, city, lambda c: remote_lists.catalogue_versions(c, version), timeout
        )
    else:
        rows = await call_node(ctx.sessions, city, fetch, timeout)
    return [CataloguePublication.from_row(r) for r in rows]
