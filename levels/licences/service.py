"""E-licences: issuance on approval, the library, reuse as materials, lifecycle.

* ``issue_for_case`` runs inside the deciding transaction: every approved
  implementation of the case that issues a licence type gets exactly one licence
  (the unique key of case, implementation and version makes a second one impossible),
  signed with the issuing org's key, and a message registers it in the city library.
* ``change_status`` and ``reissue`` run in the issuing org's store (the master, which
  online verification and the status list read) and send the new state to the library.
* ``held_licences`` answers, from the library, which VALID licences an applicant holds
  of given types; ``record_uses`` notes each use on the licence (through the outbox
  unless the case is at the city itself).
* Expiry (the end of validity) is ``levels/licences/expiry``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append
from levels.cases.enums import ApplicantKind, Decision
from levels.cases.models import Case, CasePart
from levels.common.clock import CHINA
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation, ServiceOrg
from levels.common.sequences import next_value
from levels.licences.enums import LicenceStatus, LicenceUseKind
from levels.licences.errors import LicenceErrorCode
from levels.licences.fields import CaseFacts, licence_data
from levels.licences.identifiers import make_licence_id, parse_licence_id
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence, LicenceSequence, LicenceType, LicenceUse
from levels.licences.tokens import (
    LICENCE_TYP,
    licence_claims,
    sign,
)
from levels.outbox.registry import Envelope, handler
from levels.outbox.service import enqueue

PUBLISHED = "licence.published"
USED = "licence.used"
STATUS_INDEX = "#status"
ISSUE_ACTION = "ISSUE_LICENCE"
# what a licence's audit events are called (they carry the source case's number, but
# are not steps of the case: its trail has them, its timeline not)
ACTIONS = (
    ISSUE_ACTION,
    "SUSPEND_LICENCE",
    "REINSTATE_LICENCE",
    "REVOKE_LICENCE",
    "EXPIRE_LICENCE",
    "REISSUE_LICENCE",
)


class Who(Protocol):
    """Who acts on a licence, as the audit trail records it (a case ``Actor``)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def org_code(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...


@dataclass(frozen=True)
class _System:
    id: str = "system"
    kind: str = "SYSTEM"
    role: str | None = None
    channel: str | None = "SYSTEM"
    org_code: str | None = None
    request_id: str | None = None


@dataclass
class Issuing:
    """What a deciding transaction needs to issue licences: the signer, and the
    fields the director gave (for the lead implementation's licence)."""

    signer: OrgSigner
    fields: Mapping[str, str] = field(default_factory=dict)


def china_day(at: dt.datetime) -> dt.date:
    return at.astimezone(CHINA).date()


def valid_until(start: dt.date, years: int | None) -> dt.date | None:
    if years is None:
        return None
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return end - dt.timedelta(days=1)


def library_payload(row: ELicence) -> dict[str, Any]:
    """The whole licence, as the library keeps its copy."""
    return {
        "id": row.id,
        "typeCode": row.type_code,
        "typeName": row.type_name,
        "serial": row.serial,
        "version": row.version,
        "issuerOrgCode": row.issuer_org_code,
        "issuerName": row.issuer_name,
        "issuerLevel": row.issuer_level.value,
        "issuerDivisionCode": row.issuer_division_code,
        "holderKind": row.holder_kind.value,
        "holderId": row.holder_id,
        "holderName": row.holder_name,
        "holderIdMasked": row.holder_id_masked,
        "sourceCaseNumber": row.source_case_number,
        "implementationCode": row.implementation_code,
        "validFrom": row.valid_from.isoformat(),
        "validUntil": row.valid_until.isoformat() if row.valid_until else None,
        "status": row.status.value,
        "statusReason": row.status_reason,
        "statusChangedAt": row.status_changed_at.isoformat(),
        "revision": row.revision,
        "data": row.data,
        "kid": row.kid,
        "token": row.token,
        "statusIndex": row.status_index,
        "issuedAt": row.issued_at.isoformat(),
        "issuedBy": row.issued_by,
        "supersedes": row.supersedes,
        "supersededBy": row.superseded_by,
    }


def _from_payload(row: ELicence, p: Mapping[str, Any]) -> None:
    row.type_code, row.type_name = p["typeCode"], p["typeName"]
    row.serial, row.version = p["serial"], p["version"]
    row.issuer_org_code, row.issuer_name = p["issuerOrgCode"], p["issuerName"]
    row.issuer_level = Level(p["issuerLevel"])
    row.issuer_division_code = p["issuerDivisionCode"]
    row.holder_kind = ApplicantKind(p["holderKind"])
    row.holder_id, row.holder_name = p["holderId"], p["holderName"]
    row.holder_id_masked = p["holderIdMasked"]
    row.source_case_number = p["sourceCaseNumber"]
    row.implementation_code = p["implementationCode"]
    row.valid_from = dt.date.fromisoformat(p["validFrom"])
    row.valid_until = dt.date.fromisoformat(p["validUntil"]) if p["validUntil"] else None
    row.status = LicenceStatus(p["status"])
    row.status_reason = p["statusReason"]
    row.status_changed_at = dt.datetime.fromisoformat(p["statusChangedAt"])
    row.revision = p["revision"]
    row.data = p["data"]
    row.kid, row.token = p["kid"], p["token"]
    row.status_index = p["statusIndex"]
    row.issued_at = dt.datetime.fromisoformat(p["issuedAt"])
    row.issued_by = p["issuedBy"]
    row.supersedes, row.superseded_by = p["supersedes"], p["supersededBy"]


async def _publish(session: AsyncSession, row: ELicence, now: dt.datetime) -> None:
    """Send the licence's current state to the city library (a city org's licence is
    its own library copy)."""
    if row.issuer_level is Level.CITY:
        return
    await enqueue(
        session,
        topic=PUBLISHED,
        source=row.issuer_level,
        target=Level.CITY,
        payload=library_payload(row),
        now=now,
        case_number=row.source_case_number,
        division_code=row.issuer_division_code,  # sent by the node that issued it
        entity=f"licence:{row.id}",
    )


@handler(PUBLISHED)
async def apply_published(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """The library keeps the newest revision of each licence it is sent."""
    p = envelope.payload
    row = await session.get(ELicence, p["id"], with_for_update=True)
    if row is None:
        row = ELicence(id=p["id"])
        _from_payload(row, p)
        session.add(row)
    elif p["revision"] > row.revision:
        _from_payload(row, p)


async def _audit(
    session: AsyncSession,
    row: ELicence,
    who: Who,
    action: str,
    before: LicenceStatus | None,
    now: dt.datetime,
    detail: dict[str, Any],
) -> None:
    await append(
        EventDraft(
            actor_id=who.id,
            actor_kind=who.kind,
            role=who.role,
            channel=who.channel,
            org_code=who.org_code,
            level=row.issuer_level.value,
            action=action,
            case_number=row.source_case_number,
            before=before.value if before else None,
            after=row.status.value,
            detail={"licence": row.id, **detail},
            request_id=who.request_id,
        ),
        session=session,
        now=now,
    )


def _holder_kind(case: Case) -> ApplicantKind:
    return case.applicant_kind


async def _issuing_implementations(session: AsyncSession, case: Case) -> list[MatterImplementation]:
    """The approved implementations of the case, lead first, that issue a licence."""
    codes = [case.implementation_code]
    if case.joint:
        parts = (
            await session.scalars(
                select(CasePart)
                .where(CasePart.case_number == case.number, CasePart.lead.is_(False))
                .order_by(CasePart.position)
            )
        ).all()
        codes += [p.implementation_code for p in parts if p.decision is Decision.APPROVED]
    rows = (
        await session.scalars(
            select(MatterImplementation).where(
                MatterImplementation.code.in_(codes),
                MatterImplementation.issues_licence_type.is_not(None),
            )
        )
    ).all()
    order = {c: n for n, c in enumerate(codes)}
    return sorted(rows, key=lambda r: order[r.code])


async def issue_for_case(
    session: AsyncSession, case: Case, issuing: Issuing | None, who: Who, now: dt.datetime
) -> list[ELicence]:
    """出证: the licences an approval of ``case`` yields, in the deciding transaction.
    Refuses (typed) fields that do not fit the lead's licence type, or fields given
    for a decision that yields no licence."""
    issued: list[ELicence] = []
    impls = await _issuing_implementations(session, case)
    if issuing is None:
        if impls:
            raise RuntimeError(f"approving {case.number} issues a licence: give its signer")
        return issued
    if issuing.fields and not (impls and impls[0].code == case.implementation_code):
        raise DomainError(
            LicenceErrorCode.LICENCE_FIELDS_NOT_ISSUED, field=["input", "licenceFields"]
        )
    day = china_day(now)
    facts = CaseFacts(case.applicant_name, case.applicant_id_masked, case.matter_name, day)
    for impl in impls:
        existing = await session.scalar(
            select(ELicence.id).where(
                ELicence.source_case_number == case.number,
                ELicence.implementation_code == impl.code,
            )
        )
        if existing is not None:
            continue  # never twice for one case and implementation
        kind = await session.get(LicenceType, impl.issues_licence_type)
        if kind is None:
            raise DomainError(
                LicenceErrorCode.LICENCE_TYPE_UNKNOWN, detail=impl.issues_licence_type
            )
        given = issuing.fields if impl.code == case.implementation_code else {}
        data = licence_data(kind.fields, given, facts)
        org = await session.get(ServiceOrg, impl.org_code)
        assert org is not None, impl.org_code
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
            holder_kind=_holder_kind(case),
            holder_id=case.applicant_id,
            holder_name=case.applicant_name,
            holder_id_masked=case.applicant_id_masked,
            source_case_number=case.number,
            implementation_code=impl.code,
            valid_from=day,
            valid_until=valid_until(day, kind.validity_years),
            data=data,
            issued_at=now,
            issued_by=who.id,
        )
        await _sign_new(session, row, issuing.signer, now)
        await _audit(session, row, who, ISSUE_ACTION, None, now, {"type": kind.code})
        await _publish(session, row, now)
        issued.append(row)
    return issued


async def _sign_new(
    session: AsyncSession, row: ELicence, signer: OrgSigner, now: dt.datetime
) -> None:
    """Give a new licence (version) its status-list index and signature, and add it."""
    row.status = LicenceStatus.VALID
    row.status_changed_at = now
    row.revision = 1
    row.status_index = await next_value(
        session, LicenceSequence, org_code=row.issuer_org_code, kind=STATUS_INDEX
    )
    row.kid, key = await signer.signing_key(session, row.issuer_org_code, now)
    row.token = sign(licence_claims(row), row.kid, key, LICENCE_TYP)
    session.add(row)
    await session.flush()


# which status each lifecycle action starts from, and leads to
TRANSITIONS: dict[str, tuple[frozenset[LicenceStatus], LicenceStatus]] = {
    "SUSPEND_LICENCE": (frozenset({LicenceStatus.VALID}), LicenceStatus.SUSPENDED),
    "REINSTATE_LICENCE": (frozenset({LicenceStatus.SUSPENDED}), LicenceStatus.VALID),
    "REVOKE_LICENCE": (
        frozenset({LicenceStatus.VALID, LicenceStatus.SUSPENDED}),
        LicenceStatus.REVOKED,
    ),
    "EXPIRE_LICENCE": (
        frozenset({LicenceStatus.VALID, LicenceStatus.SUSPENDED}),
        LicenceStatus.EXPIRED,
    ),
}
REISSUABLE = frozenset({LicenceStatus.VALID, LicenceStatus.SUSPENDED, LicenceStatus.EXPIRED})


async def load_master(session: AsyncSession, licence_id: str) -> ELicence:
    """The issuing store's row, locked for a change."""
    parsed = parse_licence_id(licence_id, field=("input", "id"))
    row = await session.get(ELicence, parsed.value, with_for_update=True, populate_existing=True)
    if row is None:
        raise DomainError(LicenceErrorCode.LICENCE_NOT_FOUND, field=["input", "id"])
    return row


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if len(text) > 1000:
        raise DomainError(LicenceErrorCode.REASON_REQUIRED, field=["input", "reason"])
    if required and not text:
        raise DomainError(LicenceErrorCode.REASON_REQUIRED, field=["input", "reason"])
    return text or None


def _move(row: ELicence, target: LicenceStatus, reason: str | None, now: dt.datetime) -> None:
    row.status = target
    row.status_reason = reason
    row.status_changed_at = now
    row.revision += 1


async def change_status(
    session: AsyncSession,
    licence_id: str,
    action: str,
    reason: str | None,
    who: Who,
    now: dt.datetime,
) -> ELicence:
    """Suspend, reinstate or revoke (with a reason, audited) at the issuing org; the
    status list says so at once, the library when the message arrives."""
    row = await load_master(session, licence_id)
    allowed, target = TRANSITIONS[action]
    if row.status not in allowed:
        raise DomainError(
            LicenceErrorCode.INVALID_LICENCE_TRANSITION,
            field=["input", "id"],
            detail=f"{action} from {row.status.value}",
        )
    text = _reason(reason, required=action != "REINSTATE_LICENCE")
    before = row.status
    _move(row, target, text, now)
    await session.flush()
    await _audit(session, row, who, action, before, now, {"reason": text})
    await _publish(session, row, now)
    return row


async def reissue(
    session: AsyncSession,
    licence_id: str,
    *,
    reason: str | None,
    fields: Mapping[str, str],
    until: dt.date | None,
    signer: OrgSigner,
    who: Who,
    now: dt.datetime,
) -> ELicence:
    """换发: a new version of the licence (same serial, the next version, a new
    signature and status-list index); the old version is revoked as superseded."""
    old = await load_master(session, licence_id)
    if old.status not in REISSUABLE or old.superseded_by is not None:
        raise DomainError(
            LicenceErrorCode.INVALID_LICENCE_TRANSITION,
            field=["input", "id"],
            detail=f"REISSUE_LICENCE from {old.status.value}",
        )
    text = _reason(reason, required=True)
    kind = await session.get(LicenceType, old.type_code)
    if kind is None:
        raise DomainError(LicenceErrorCode.LICENCE_TYPE_UNKNOWN, detail=old.type_code)
    day = china_day(now)
    if until is not None and until < day:
        raise DomainError(LicenceErrorCode.INVALID_VALIDITY, field=["input", "validUntil"])
    facts = CaseFacts(old.holder_name, old.holder_id_masked, "", day)
    data = licence_data(kind.fields, {**old.data, **fields}, facts)
    new = ELicence(
        id=make_licence_id(old.type_code, old.issuer_org_code, old.serial, old.version + 1),
        type_code=old.type_code,
        type_name=kind.name,
        serial=old.serial,
        version=old.version + 1,
        issuer_org_code=old.issuer_org_code,
        issuer_name=old.issuer_name,
        issuer_level=old.issuer_level,
        issuer_division_code=old.issuer_division_code,
        holder_kind=old.holder_kind,
        holder_id=old.holder_id,
        holder_name=old.holder_name,
        holder_id_masked=old.holder_id_masked,
        source_case_number=old.source_case_number,
        implementation_code=old.implementation_code,
        valid_from=day,
        valid_until=until or valid_until(day, kind.validity_years),
        data=data,
        issued_at=now,
        issued_by=who.id,
        supersedes=old.id,
    )
    await _sign_new(session, new, signer, now)
    before = old.status
    if before is not LicenceStatus.EXPIRED:
        _move(old, LicenceStatus.REVOKED, f"{text}（已换发 {new.id}）", now)
    else:
        old.revision += 1
    old.superseded_by = new.id
    await session.flush()
    await _audit(session, old, who, "REISSUE_LICENCE", before, now, {"reason": text, "new": new.id})
    await _audit(
        session, new, who, ISSUE_ACTION, None, now, {"type": new.type_code, "reissue": True}
    )
    await _publish(session, old, now)
    await _publish(session, new, now)
    return new


# -- the library: what an applicant holds, and each use of it -------------------------


async def held_licences(
    session: AsyncSession,
    holder_ids: Sequence[str],
    types: Iterable[str],
    today: dt.date | None = None,
) -> dict[str, ELicence]:
    """The applicant's newest VALID licence of each type, from the city library (on
    ``today``, when given: none whose validity ended before it)."""
    wanted = sorted(set(types))
    if not wanted or not holder_ids:
        return {}
    stmt = select(ELicence).where(
        ELicence.holder_id.in_(list(holder_ids)),
        ELicence.type_code.in_(wanted),
        ELicence.status == LicenceStatus.VALID,
    )
    if today is not None:  # VALID in the library, but its validity has ended
        stmt = stmt.where(or_(ELicence.valid_until.is_(None), ELicence.valid_until >= today))
    rows = (await session.scalars(stmt.order_by(ELicence.issued_at.desc(), ELicence.id))).all()
    found: dict[str, ELicence] = {}
    for row in rows:
        found.setdefault(row.type_code, row)
    return found


@dataclass(frozen=True)
class Use:
    licence_id: str
    kind: LicenceUseKind
    purpose: str
    used_by: str
    used_at: dt.datetime
    case_number: str | None = None
    material: str | None = None
    used_by_org: str | None = None
    expires_at: dt.datetime | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "licenceId": self.licence_id,
            "kind": self.kind.value,
            "purpose": self.purpose,
            "usedBy": self.used_by,
            "usedAt": self.used_at.isoformat(),
            "caseNumber": self.case_number,
            "material": self.material,
            "usedByOrg": self.used_by_org,
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
        }


def _use_row(p: Mapping[str, Any]) -> LicenceUse:
    return LicenceUse(
        licence_id=p["licenceId"],
        kind=LicenceUseKind(p["kind"]),
        purpose=p["purpose"],
        used_by=p["usedBy"],
        used_at=dt.datetime.fromisoformat(p["usedAt"]),
        case_number=p["caseNumber"],
        material=p["material"],
        used_by_org=p["usedByOrg"],
        expires_at=dt.datetime.fromisoformat(p["expiresAt"]) if p["expiresAt"] else None,
    )


@handler(USED)
async def apply_used(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    session.add(_use_row(envelope.payload))


async def record_uses(
    session: AsyncSession, level: Level, uses: Sequence[Use], now: dt.datetime
) -> None:
    """Note each use on its licence in the library: directly when ``session`` is the
    city's, else through the outbox with the case's other writes."""
    for use in uses:
        if level is Level.CITY:
            session.add(_use_row(use.payload()))
        else:
            await enqueue(
                session,
                topic=USED,
                source=level,
                target=Level.CITY,
                payload=use.payload(),
                now=now,
                case_number=use.case_number,
                entity=f"licence:{use.licence_id}",
            )


def copy_id() -> str:
    return uuid.uuid4().hex


__all__ = [
    "Issuing",
    "Use",
    "Who",
    "apply_published",
    "apply_used",
    "change_status",
    "held_licences",
    "issue_for_case",
    "record_uses",
    "reissue",
]
