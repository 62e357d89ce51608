"""The issuers' signed status lists at the node keeping their licences (DESIGN §2): a
list is signed where the issuer's licences and key are, with the issuer's own key
(``levels/licences/status_lists.py``), the same token the hub signs by SQL over that
store — the key the kit's JWKS and every verifier already expect.

The hub asks for every issuer the node keeps (the offline kit) or for the orgs it names
(``/licences/status/{orgCode}``); an org whose credit code names an area none of whose
divisions the node serves is refused with ``DIVISION_NOT_OWNED``, one in its area whose
licences it does not keep is left out (nothing to sign)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.common.codes import level_of_division, validate_uscc
from levels.common.enums import LEVELS, Level
from levels.common.errors import DomainError, ErrorCode
from levels.licences.keys import OrgSigner
from levels.licences.status_lists import issuers_kept, signed_lists
from levels.node.scope import NodeScope

# a list is good for at most a year (GOVHUB_LICENCE_STATUS_TTL_SECONDS is a day)
MAX_TTL_SECONDS = 366 * 86400


def credit_area(org_code: str) -> tuple[str | None, tuple[Level, ...]]:
    """The division a credit code's characters 3–8 name (its registering county's or
    city's), when they name one, and the levels an org registered there is of: the
    area's and those below it (every level when the code names no area). Its licences
    are kept by a node serving part of that range (``NodeScope.require_range``)."""
    area = org_code[2:8] + "000000"
    level = level_of_division(area) if len(org_code) == 18 else None
    if level is None:
        return None, LEVELS
    return area, LEVELS[LEVELS.index(level) :]


def asked_orgs(scope: NodeScope, org_codes: Sequence[str]) -> list[str]:
    """The org codes asked, checked: INVALID_ORG_CODE for one that is not a credit
    code; DIVISION_NOT_OWNED for one whose area this node serves no part of."""
    checked = []
    for i, given in enumerate(org_codes):
        code = validate_uscc(given, field=("orgCodes", str(i)))
        area, _levels = credit_area(code)
        if area is not None:
            scope.require_range(area, field=("orgCodes", str(i)))
        checked.append(code)
    return checked


async def node_status_lists(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    org_codes: Sequence[str] | None,
    *,
    signer: OrgSigner | None,
    now: dt.datetime,
    ttl_seconds: int,
) -> dict[str, str]:
    """The signed lists of the issuers this node keeps (those of ``org_codes`` when
    given), as of the hub's ``now``, good for ``ttl_seconds``: org code → token, in
    one transaction of the node's store (an issuer without a key yet gets one, as by
    SQL)."""
    if signer is None:
        raise DomainError(ErrorCode.DIVISION_NOT_OWNED, field=["statusLists"], detail="signs none")
    if now.tzinfo is None:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["now"], detail="no offset")
    if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["ttlSeconds"], detail=str(ttl_seconds))
    asked = None if org_codes is None else asked_orgs(scope, org_codes)
    if asked == []:
        return {}
    held = [lv for lv in LEVELS if scope.holds(lv)]
    async with sessions.begin() as session:
        orgs = await issuers_kept(session, held, scope.keeps, asked)
        return await signed_lists(session, orgs, signer=signer, now=now, ttl_seconds=ttl_seconds)
