"""An issuer's signed status list (``statuslist+jwt``): the revocation and suspension
bits of every licence it issued (encoded by ``statuslist.py``), signed with the
issuer's key — what ``/licences/status/{orgCode}`` and the offline kit serve.

A list is signed where its issuer's licences are kept as the issuer's: in the store of
the node owning the issuer's division at the issuing level (``issuers_kept``). The city
node also keeps the library's copies of every node's licences; those are not its to
sign (their issuer's key is not in its store)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.licences import statuslist
from levels.licences.enums import LicenceStatus
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.tokens import STATUS_TYP, sign, status_list_claims

# whether a node keeps the rows of a level about a division (``NodeScope.keeps``)
Keeps = Callable[[str, Level], bool]


async def issuers_kept(
    session: AsyncSession,
    levels: Iterable[Level],
    keeps: Keeps,
    org_codes: Collection[str] | None = None,
) -> list[str]:
    """The orgs that issued licences at one of ``levels`` about a division this node
    keeps at that level (``keeps``), in code order; only those of ``org_codes`` when
    given. One statement: the (org, division, level) of the store's licences, grouped."""
    stmt = select(
        ELicence.issuer_org_code, ELicence.issuer_division_code, ELicence.issuer_level
    ).where(ELicence.issuer_level.in_(list(levels)))
    if org_codes is not None:
        stmt = stmt.where(ELicence.issuer_org_code.in_(list(org_codes)))
    stmt = stmt.group_by(
        ELicence.issuer_org_code, ELicence.issuer_division_code, ELicence.issuer_level
    )
    rows = (await session.execute(stmt)).all()
    return sorted({org for org, division, level in rows if keeps(division, level)})


async def status_list(
    session: AsyncSession,
    org_code: str,
    *,
    signer: OrgSigner,
    now: dt.datetime,
    ttl_seconds: int,
) -> str:
    """The issuer's signed status list, as of now: the revocation and suspension
    bits of every licence it issued, valid for ``ttl_seconds``."""
    rows = (
        await session.execute(
            select(ELicence.status_index, ELicence.status).where(
                ELicence.issuer_org_code == org_code,
                ELicence.status.in_([LicenceStatus.REVOKED, LicenceStatus.SUSPENDED]),
            )
        )
    ).all()
    lists = {
        "revocation": statuslist.encode(i for i, s in rows if s is LicenceStatus.REVOKED),
        "suspension": statuslist.encode(i for i, s in rows if s is LicenceStatus.SUSPENDED),
    }
    kid, key = await signer.signing_key(session, org_code, now)
    claims = status_list_claims(org_code, lists, now=now, ttl_seconds=ttl_seconds)
    return sign(claims, kid, key, STATUS_TYP)


async def signed_lists(
    session: AsyncSession,
    orgs: Iterable[str],
    *,
    signer: OrgSigner,
    now: dt.datetime,
    ttl_seconds: int,
) -> dict[str, str]:
    """Each org's signed status list (``status_list``), by org code, in the caller's
    transaction (an org's first key is made in it)."""
    return {
        org: await status_list(session, org, signer=signer, now=now, ttl_seconds=ttl_seconds)
        for org in orgs
    }
