"""A holder's part of the city's licence library, read where the library is kept and
carried to the node that receives a case (DESIGN §2, "A node is a service").

A county or village node does not keep the library (the city node does). When it
receives a case — ``submitCase``, ``receiveCase``, ``receiveForResident`` — the hub
reads the applicant's (or the authorizing resident's) licences at the city node
(``licencesOfHolder``) or, without an address, in the city store by the same statement
(``read_held``), asks each licence's issuer for the status it holds now, and sends them
as ``HeldLicences``. The node decides with them as with its own library: the rules of
``levels/licences/reuse.py`` (which material a licence fills) and of the station's free
service (``levels/node/proxy.py``, a valid 残疾人证) read a ``HeldLicences`` as they read
the library's store, so there is one rule wherever the library is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.errors import DomainError, ErrorCode
from levels.common.reads import table
from levels.common.rowcodec import decode_row, encode_row
from levels.licences.enums import LicenceStatus
from levels.licences.models import ELicence

# statuses the library may still be catching up from: the issuer may hold another now
LIVE = (LicenceStatus.VALID, LicenceStatus.SUSPENDED)


@dataclass(frozen=True)
class HeldLicences:
    """The library's rows for ``holder``: their live licences (VALID or SUSPENDED in
    the library) and the licences the input names (whoever holds them), with the
    status each one's issuer holds now (``at_issuer``; None for a licence the issuer
    could not vouch for)."""

    holder: str
    rows: tuple[ELicence, ...] = ()
    at_issuer: Mapping[str, LicenceStatus | None] = field(default_factory=dict)


async def read_held(session: AsyncSession, holder: str, named: Sequence[str]) -> list[ELicence]:
    """In the library's store: the holder's live licences and those ``named``, in one
    statement, newest first."""
    wanted = or_(ELicence.holder_id == holder, ELicence.id.in_(list(named)))
    live = or_(ELicence.holder_id != holder, ELicence.status.in_(LIVE), ELicence.id.in_(named))
    stmt = select(ELicence).where(wanted, live).order_by(ELicence.issued_at.desc(), ELicence.id)
    return list((await session.scalars(stmt)).all())


def named_in(held: HeldLicences, ids: Iterable[str]) -> dict[str, ELicence]:
    """The licences named, by identifier, among those read."""
    wanted = set(ids)
    return {r.id: r for r in held.rows if r.id in wanted}


def live_of(held: HeldLicences, types: Iterable[str]) -> list[ELicence]:
    """The holder's live licences of ``types``, newest first (as the library's query)."""
    kinds = set(types)
    rows = [
        r
        for r in held.rows
        if r.holder_id == held.holder and r.type_code in kinds and r.status in LIVE
    ]
    return sorted(rows, key=lambda r: (-r.issued_at.timestamp(), r.id))


def newest_valid(held: HeldLicences, types: Iterable[str], today: dt.date) -> dict[str, ELicence]:
    """The holder's newest licence of each type VALID in the library on ``today``, as
    ``levels/licences/service.py: held_licences`` reads the store."""
    found: dict[str, ELicence] = {}
    for row in live_of(held, types):
        if row.status is LicenceStatus.VALID and (
            row.valid_until is None or row.valid_until >= today
        ):
            found.setdefault(row.type_code, row)
    return found


def encode_held(held: HeldLicences) -> dict[str, Any]:
    """As JSON: the holder, every column of each row, the issuers' statuses by name."""
    return {
        "holder": held.holder,
        "rows": [encode_row(table(ELicence), r) for r in held.rows],
        "at_issuer": {k: None if s is None else s.name for k, s in held.at_issuer.items()},
    }


def decode_held(data: Any) -> HeldLicences | None:
    """``encode_held``'s JSON back (None: none sent); BAD_USER_INPUT otherwise."""
    if data is None:
        return None
    try:
        if not isinstance(data, Mapping) or not isinstance(data["at_issuer"], Mapping):
            raise TypeError("not a holder's licences")
        rows = tuple(decode_row(ELicence, r) for r in data["rows"])
        if not all(isinstance(r.id, str) and isinstance(r.issued_at, dt.datetime) for r in rows):
            raise TypeError("a licence without its id or issue time")
        at_issuer = {
            str(k): None if s is None else LicenceStatus[s] for k, s in data["at_issuer"].items()
        }
        return HeldLicences(str(data["holder"]), rows, at_issuer)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, field=["library"], detail=str(exc)[:200]
        ) from None
