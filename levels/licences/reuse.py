"""Reuse (100 % 免提交): which library licence fills which material of an application.

The city's library holds a copy of every licence, kept up to date through the outbox;
the issuing org's store holds the master, whose status is the one that counts. A
suspension or revocation reaches the library only when the relay delivers it, so the
library alone would let a licence be reused in that window (however long the relay's
backlog). Here the library says which licences the applicant holds and which one the
input names; the issuer — asked through ``IssuerStatus`` at submit time — says whether
each is VALID now. A licence its issuer cannot vouch for is never used."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.errors import DomainError, ErrorCode
from levels.licences import expiry
from levels.licences.enums import LicenceStatus
from levels.licences.errors import LicenceErrorCode
from levels.licences.held import HeldLicences, live_of, named_in
from levels.licences.models import ELicence

# the status a licence's issuer holds now; None: the issuer cannot say (its store does
# not answer, or holds no such licence)
IssuerStatus = Callable[[ELicence], Awaitable[LicenceStatus | None]]
# statuses the library may still be catching up from: the issuer may hold another now
_LIVE = (LicenceStatus.VALID, LicenceStatus.SUSPENDED)


@dataclass(frozen=True)
class Presented:
    """A licence the input names for a material (``position`` in the input's list)."""

    material: str
    licence_id: str
    position: int


# the library's store, or the holder's part of it as read there (``levels/licences/held``)
Library = AsyncSession | HeldLicences


async def _library_rows(
    library: Library, holder: str, presented: Sequence[Presented], types: set[str]
) -> tuple[dict[str, ELicence], list[ELicence]]:
    """The licences the input names, and the holder's live ones of ``types``, newest
    first."""
    if isinstance(library, HeldLicences):
        if library.holder != holder:  # read for another holder: none of theirs
            library = HeldLicences(holder)
        return named_in(library, [p.licence_id for p in presented]), live_of(library, types)
    named = {
        row.id: row
        for row in await library.scalars(
            select(ELicence).where(ELicence.id.in_([p.licence_id for p in presented]))
        )
    }
    held = (
        await library.scalars(
            select(ELicence)
            .where(
                ELicence.holder_id == holder,
                ELicence.type_code.in_(sorted(types)),
                ELicence.status.in_(_LIVE),
            )
            .order_by(ELicence.issued_at.desc(), ELicence.id)
        )
    ).all()
    return named, list(held)


async def _at_issuers(
    rows: Sequence[ELicence],
    issuer_status: IssuerStatus | None,
    today: dt.date,
    asked: HeldLicences | None = None,
) -> dict[str, LicenceStatus | None]:
    """Each licence's status at its issuer (as the hub ``asked`` it, for rows read
    elsewhere; the library's own without an issuer to ask: seeding and level tests),
    EXPIRED past its validity whether or not a timer pass has marked it so
    (``levels/licences/expiry``)."""
    unique = list({r.id: r for r in rows}.values())
    if asked is not None:
        found: list[LicenceStatus | None] = [asked.at_issuer.get(r.id) for r in unique]
    elif issuer_status is None:
        found = [r.status for r in unique]
    else:
        found = list(await asyncio.gather(*(issuer_status(r) for r in unique)))
    return {
        r.id: None if s is None else expiry.status_on(r, today, s)
        for r, s in zip(unique, found, strict=True)
    }


async def choose(
    library: Library,
    *,
    holder: str,
    wanted: Mapping[str, str],
    presented: Sequence[Presented],
    issuer_status: IssuerStatus | None,
    today: dt.date,
) -> dict[str, ELicence]:
    """The licence that fills each material ``wanted`` (material name → licence type):
    the one the input names — the holder's own, of the type, VALID at its issuer, or a
    typed error — else the holder's newest licence of the type that its issuer holds
    VALID; a material with none is asked for as usual. The library away: nothing is
    filled (NODE_UNAVAILABLE when the input names a licence)."""
    try:
        named, held = await _library_rows(library, holder, presented, set(wanted.values()))
    except (OSError, SQLAlchemyError):
        if presented:
            raise DomainError(ErrorCode.NODE_UNAVAILABLE, field=["input", "materials"]) from None
        return {}
    for p in presented:
        where = ["input", "materials", str(p.position)]
        row = named.get(p.licence_id)
        if row is None:
            raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=where)
        if row.type_code != wanted.get(p.material):
            raise DomainError(LicenceErrorCode.LICENCE_TYPE_MISMATCH, field=where)
        if row.holder_id != holder:
            raise DomainError(LicenceErrorCode.LICENCE_HOLDER_MISMATCH, field=where)
    chosen = [named[p.licence_id] for p in presented]
    given = library if isinstance(library, HeldLicences) else None
    status = await _at_issuers([*chosen, *held], issuer_status, today, given)
    picked: dict[str, ELicence] = {}
    for p, row in zip(presented, chosen, strict=True):
        now = status[row.id]
        if now is None:
            where = ["input", "materials", str(p.position)]
            raise DomainError(ErrorCode.NODE_UNAVAILABLE, field=where)
        if now is not LicenceStatus.VALID:
            where = ["input", "materials", str(p.position)]
            raise DomainError(LicenceErrorCode.LICENCE_NOT_VALID, field=where, detail=now.value)
        picked[p.material] = row
    for material, type_code in wanted.items():
        if material in picked:
            continue
        valid = [
            r for r in held if r.type_code == type_code and status[r.id] is LicenceStatus.VALID
        ]
        if valid:
            picked[material] = valid[0]
    return picked
