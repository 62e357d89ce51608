"""The issuers' signed status lists (``statuslist+jwt``) at the node keeping their
licences, for the hub's ``/licences/status/{orgCode}`` and offline kit
(``levels/node/status_lists.py``): each signed here with the issuer's own key, kept in
this node's store. Merged into the node's ``Query`` in ``schema/node/__init__.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from levels.node.status_lists import node_status_lists
from schema.node.types import NodeInfo


@strawberry.type(description="An issuer's signed status list")
class IssuerStatusList:
    org_code: str = strawberry.field(description="The issuing org's credit code")
    token: str = strawberry.field(
        description="The list (statuslist+jwt), signed with the org's key kept here"
    )


@strawberry.type(name="StatusListQuery", description="The issuers' status lists")
class StatusListQueries:
    @strawberry.field(
        description="The signed status lists of the issuers whose licences this node "
        "keeps as theirs (the library's copies of other nodes' licences left out), by org "
        "code; only those of `orgCodes` when given (one the node keeps none of: left "
        "out; one whose credit code names an area this node serves no part of: "
        "DIVISION_NOT_OWNED). Signed as of the hub's `now`, good for `ttlSeconds`"
    )
    async def status_lists(
        self,
        info: NodeInfo,
        now: Annotated[dt.datetime, strawberry.argument(description="The hub's instant")],
        ttl_seconds: Annotated[
            int, strawberry.argument(description="How long the lists are good for")
        ],
        org_codes: Annotated[
            list[str] | None, strawberry.argument(description="The issuers asked for")
        ] = None,
    ) -> list[IssuerStatusList]:
        context = info.context
        found = await node_status_lists(
            context.sessions,
            context.scope,
            org_codes,
            signer=context.licence_signer,
            now=now,
            ttl_seconds=ttl_seconds,
        )
        return [IssuerStatusList(org_code=org, token=token) for org, token in found.items()]
