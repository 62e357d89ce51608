"""The city's licence library (电子证照库) at the node that keeps it, for the hub
(``levels/node/licence_library.py``): its list by the hub's conditions
(``licenceLibrary``), a holder's licences in force for the node receiving their case,
which does not keep the library (``licencesOfHolder``, ``levels/licences/held.py``),
the orgs whose key signs its copies (``libraryOrgs``), and a
holder's copy (``copyLicence``, 加注件) signed and recorded in the node's own
transaction; and, at every node, the public keys of the orgs that sign there
(``licenceKeys``), which verification checks tokens against. Merged into the node's
``Query`` and ``Mutation`` in ``schema/node/__init__.py``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON

from levels.common.errors import DomainError, ErrorCode
from levels.licences.held import read_held
from levels.licences.models import ELicence, LicenceKey
from levels.node import licence_library
from levels.node.cursors import decode_cursor, encode_cursor
from levels.outbox.signing import NODE_KEY_PREFIX
from schema.node.lists import city_only
from schema.node.mutation import StepRefusal, _refusal
from schema.node.query import PageInfo, page_size
from schema.node.types import NodeInfo, Record, records, row_columns


def licence_cursor(issued_at: dt.datetime, identifier: str) -> str:
    """The cursor after the licence issued at ``issued_at`` with ``identifier``."""
    return encode_cursor("licence", issued_at.astimezone(dt.UTC).isoformat(), identifier)


@strawberry.type(description="A page of the licence library, in the order issued")
class LicencePage:
    items: list[Record] = strawberry.field(description="The licences of this page")
    page_info: PageInfo = strawberry.field(description="Where the page ends")


@strawberry.type(description="What became of a copy asked of the library")
class LicenceCopyResult:
    token: str | None = strawberry.field(
        description="The copy, signed with the library's key (none: refused, nothing written)"
    )
    columns: JSON | None = strawberry.field(description="The licence it copies, every column")
    error: StepRefusal | None = strawberry.field(description="Why it was refused")


@strawberry.type(name="LibraryQuery", description="The licence library's reads")
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

    @strawberry.field(
        description="The library's licences meeting the hub's conditions (as "
        "levels.node.licence_library encodes them), in the order issued, one statement "
        "a page; only the node holding the city keeps the library: DIVISION_NOT_OWNED "
        "elsewhere"
    )
    async def licence_library(
        self,
        info: NodeInfo,
        filter: Annotated[JSON, strawberry.argument(description="The list's conditions")],
        first: Annotated[int | None, strawberry.argument(description="Page size")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before")
        ] = None,
    ) -> LicencePage:
        licence_library.keeps_library(info.context.scope, "licenceLibrary")
        conditions = licence_library.LicenceConditions.decode(filter)
        size = page_size(info, first)
        start = None
        if after:
            issued, identifier = decode_cursor(after, "licence", 2)
            try:
                start = (dt.datetime.fromisoformat(issued), identifier)
            except ValueError:
                raise DomainError(ErrorCode.INVALID_CURSOR, field=["after"]) from None
        async with info.context.reading() as session:
            found = await licence_library.library_page(
                conditions, session=session, after=start, limit=size + 1
            )
        page = found[:size]
        end = licence_cursor(page[-1].issued_at, page[-1].id) if page else None
        return LicencePage(
            items=records(ELicence, page),
            page_info=PageInfo(has_next_page=len(found) > size, end_cursor=end),
        )

    @strawberry.field(
        description="The city's service orgs, the first of which signs the library's "
        "copies; the node holding the city only: DIVISION_NOT_OWNED elsewhere"
    )
    async def library_orgs(self, info: NodeInfo) -> list[str]:
        licence_library.keeps_library(info.context.scope, "libraryOrgs")
        async with info.context.reading() as session:
            return list(await licence_library.library_orgs(session))

    @strawberry.field(
        description="The public keys of the orgs that sign licences with keys kept "
        "here, retired ones too (they still verify): each `kid`, `orgCode` and "
        "`publicJwk`, never a private key"
    )
    async def licence_keys(self, info: NodeInfo) -> list[JSON]:
        async with info.context.reading() as session:
            found = await session.scalars(
                select(LicenceKey)
                .where(~LicenceKey.org_code.startswith(NODE_KEY_PREFIX))
                .order_by(LicenceKey.kid)
            )
            return [
                cast(JSON, {"kid": k.kid, "orgCode": k.org_code, "publicJwk": k.public_jwk})
                for k in found
            ]


@strawberry.type(name="LibraryMutation", description="The licence library's writes")
class LibraryMutations:
    @strawberry.mutation(
        description="加注件: a copy of licence `id` bound to `purpose`, valid until "
        "`expiresAt`, signed with the library's key and its use recorded for `usedBy`, "
        "in one transaction; LICENCE_NOT_FOUND, LICENCE_NOT_VALID … as `error`. Who may "
        "is the hub's check. The node holding the city only: DIVISION_NOT_OWNED elsewhere"
    )
    async def copy_licence(
        self,
        info: NodeInfo,
        id: Annotated[str, strawberry.argument(description="The licence's identifier")],
        purpose: Annotated[str, strawberry.argument(description="What the copy is for")],
        expires_at: Annotated[dt.datetime, strawberry.argument(description="Its end")],
        used_by: Annotated[str, strawberry.argument(description="The account asking")],
        now: Annotated[dt.datetime, strawberry.argument(description="The hub's instant")],
    ) -> LicenceCopyResult:
        context = info.context
        outcome = await licence_library.copy_licence(
            context.sessions,
            context.scope,
            licence_library.CopyRequest(id, purpose, used_by, expires_at),
            signer=context.licence_signer,
            now=now,
        )
        return LicenceCopyResult(
            token=outcome.token,
            columns=row_columns(ELicence, outcome.licence),
            error=_refusal(outcome.error, context.locale),
        )
