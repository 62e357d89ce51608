"""An issuer's signed status list (``statuslist+jwt``): the revocation and suspension
bits of every licence it issued (encoded by ``statuslist.py``), signed with the
issuer's key — what ``/licences/status/{orgCode}`` and the offline kit serve."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.licences import statuslist
from levels.licences.enums import LicenceStatus
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.tokens import STATUS_TYP, sign, status_list_claims


async def issuers_here(session: AsyncSession, level: Level) -> list[str]:
    """The orgs of this store that have issued licences."""
    return list(
        await session.scalars(
            select(ELicence.issuer_org_code)
            .where(ELicence.issuer_level == level)
            .group_by(ELicence.issuer_org_code)
            .order_by(ELicence.issuer_org_code)
        )
    )


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
