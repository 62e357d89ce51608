"""Resolvers of the lists' publication (000: "于6月、12月…集中公布1次"): ``publishCatalogue``
writes a new version in the city's store, which owns the catalogue — asked of the city
node through its API when the hub reaches it so (``publishCatalogue`` there);
``catalogueVersions`` reads every published version back."""

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
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import Division
from levels.common.rowcodec import decode_row
from levels.node.steps import encode_actor
from resolvers import nodewrites, remote, remote_lists
from resolvers.cases import actor_of
from resolvers.fanout import call_api, call_node, guarded
from resolvers.nodeclient import NodeClient
from resolvers.registry import Node
from schema.info import Info
from schema.payloads import user_errors
from schema.publication import (
    CataloguePublication,
    CataloguePublicationPayload,
    PublishCatalogueInput,
)


async def city_of(node: Node, client: NodeClient) -> str:
    """The city a node holding the city level keeps: from its prefix in the node map (a
    city's code is its first four digits), else (a prefix naming no city: the embedded
    default's "") its city division, asked of the node (as the SQL path reads it)."""
    prefix = next((p for p in node.prefixes if len(p) >= 4), None)
    if prefix is not None:
        return prefix[:4].ljust(12, "0")
    page = await remote_lists.divisions(
        client, [Level.CITY], parent_code=None, within=None, after=None, first=1
    )
    if not page.rows:
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, detail=f"node {node.id}: no city")
    return page.rows[0].code


async def _publish_at_node(info: Info, node: Node, input: PublishCatalogueInput) -> PublicationRow:
    """The publication by the node keeping the catalogue, after the hub's check; its
    refusal raised as the same ``DomainError``, ``NodeUnavailable`` when it does not
    answer (nothing written)."""
    ctx = info.context
    client = node.client
    assert client is not None
    city = await city_of(node, client)
    require(ctx.viewer, Action.PUBLISH_CATALOGUE, Target(Resource.CATALOGUE, city))
    actor = encode_actor(actor_of(info))
    now = ctx.clock.now()

    async def call() -> dict[str, Any]:
        return await nodewrites.publish_catalogue(
            client, city, urgent=input.urgent, actor=actor, now=now, reason=input.reason
        )

    answer = await guarded(ctx.nodes.breakers, node, call, client.timeout)
    refused = remote.refusal(answer)
    if refused is not None:
        raise refused
    row: PublicationRow = decode_row(PublicationRow, answer["columns"])
    return row


async def publish(info: Info, input: PublishCatalogueInput) -> CataloguePublicationPayload:
    ctx = info.context
    node = ctx.nodes.single(Level.CITY)
    if node.client is not None:  # the city node publishes it, through its API
        try:
            row = await _publish_at_node(info, node, input)
        except DomainError as e:
            return CataloguePublicationPayload(errors=user_errors(e, ctx.locale))
        return CataloguePublicationPayload(publication=CataloguePublication.from_row(row))
    try:
        async with node.sessions.begin() as session:
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
