"""Licences of registers kept outside the hall (信息共享, 001 "能通过信息共享获取的材料，
一律不得要求申请人提供"): a 居民户口簿 (户籍登记), a 结婚证 (婚姻登记), a 出生医学证明
(the birth's medical register), a 不动产权证书 (不动产登记) are not the outcome of a
case of this hall, yet the guides ask for them. Their register's entry enters the
e-licence library here: issued in the name of the org keeping the register, numbered,
signed and published to the library like any licence a case yields; its source is
the register's own number, where a case's licence names the case. From then on a
material of that type is filled from the library at submission
(``levels/licences/reuse.py``), never asked for.

The 居民身份证 is not issued at all: it is the signed-in person's verified identity
(``levels/cases/sharing.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.enums import ApplicantKind
from levels.common.errors import DomainError
from levels.common.models import ServiceOrg
from levels.common.sequences import next_value
from levels.licences.errors import LicenceErrorCode
from levels.licences.fields import CaseFacts, licence_data
from levels.licences.identifiers import make_licence_id
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence, LicenceSequence, LicenceType
from levels.licences.service import (
    ISSUE_ACTION,
    Who,
    _audit,
    _publish,
    _sign_new,
    china_day,
    valid_until,
)

# the types whose licences come from a register, not from a case of the hall
REGISTER_TYPES = ("HKB", "JHZ", "CSYXZM", "BDCQZ")


@dataclass(frozen=True)
class RegisterEntry:
    """One entry of a register, for one holder."""

    type_code: str
    register_number: str  # the register's own number: the licence's source
    holder_id: str  # the holder's account
    holder_name: str
    holder_id_masked: str
    fields: Mapping[str, str]


async def issue_from_register(
    session: AsyncSession,
    entry: RegisterEntry,
    *,
    org_code: str,
    signer: OrgSigner,
    who: Who,
    now: dt.datetime,
) -> ELicence:
    """The licence of one register entry, in the store of the org keeping it."""
    if entry.type_code not in REGISTER_TYPES:
        raise DomainError(LicenceErrorCode.LICENCE_TYPE_UNKNOWN, detail=entry.type_code)
    kind = await session.get(LicenceType, entry.type_code)
    org = await session.get(ServiceOrg, org_code)
    if kind is None or org is None:
        raise DomainError(LicenceErrorCode.LICENCE_TYPE_UNKNOWN, detail=entry.type_code)
    day = china_day(now)
    facts = CaseFacts(entry.holder_name, entry.holder_id_masked, kind.name, day)
    serial = await next_value(session, LicenceSequence, org_code=org.code, kind=kind.code)
    row = ELicence(
        id=make_licence_id(kind.code, org.code, serial, 1),
        type_code=kind.code,
        type_name=kind.name,
        serial=serial,
        version=1,
        issuer_org_code=org.code,
        issuer_name=org.name,
        issuer_level=org.level,
        issuer_division_code=org.division_code,
        holder_kind=ApplicantKind.PERSON,
        holder_id=entry.holder_id,
        holder_name=entry.holder_name,
        holder_id_masked=entry.holder_id_masked,
        source_case_number=entry.register_number,
        implementation_code=f"REGISTER-{kind.code}",
        valid_from=day,
        valid_until=valid_until(day, kind.validity_years),
        data=licence_data(kind.fields, entry.fields, facts),
        issued_at=now,
        issued_by=who.id,
    )
    await _sign_new(session, row, signer, now)
    await _audit(session, row, who, ISSUE_ACTION, None, now, {"type": kind.code, "register": True})
    await _publish(session, row, now)
    return row
