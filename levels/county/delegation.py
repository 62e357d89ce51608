"""Delegating county matters to towns (委托/下放), the write side.

The county writes the delegation (its legal instrument, effective date, the towns or
all of them) and, in the same transaction, one outbox message per town; each town's
store applies it by publishing the town's own implementation item for the matter —
a copy of the county's item (limits, guide, fees, delivery) marked as delegated. From
then on ``serviceRoutes`` sends the residents below the town to the town, while the
delegation is in force.

Revoking it stops it at once (routes read the county's delegation row) and tells each
town to abolish its item: new cases go back to the county; cases in flight stay at
the town, which still finds their item to finish them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.audit.chain import EventDraft, append, carry_handover, with_handover
from levels.audit.models import AuditEvent
from levels.cases.service import Actor, china_date
from levels.common.codes import level_of_division, make_implementation_code, parse_division
from levels.common.enums import (
    HandlingKind,
    Level,
    MaterialForm,
    MatterStatus,
    OnlineLevel,
)
from levels.common.errors import DomainError, ErrorCode
from levels.common.models import (
    Department,
    ImplementationMaterial,
    MatterImplementation,
    ServiceOrg,
)
from levels.county.errors import DelegationErrorCode
from levels.county.models import Delegation, DelegationTarget
from levels.county.service import DelegationView
from levels.outbox.models import OutboxMessage
from levels.outbox.service import Envelope, enqueue, handler

GRANTED = "delegation.granted"
REVOKED = "delegation.revoked"
DELEGATE_ACTION = "DELEGATE_MATTER"
REVOKE_ACTION = "REVOKE_DELEGATION"


@dataclass(frozen=True)
class DelegationDraft:
    implementation_code: str  # the county's item
    towns: Sequence[str]  # town division codes; empty: every town of the county
    legal_instrument: str
    effective_from: dt.date
    town_department: str | None = None  # the towns' department that handles it


def _audit(actor: Actor, action: str, county: str, detail: dict[str, Any]) -> EventDraft:
    return EventDraft(
        actor_id=actor.id,
        actor_kind=actor.kind,
        role=actor.role,
        channel=actor.channel,
        org_code=actor.org_code,
        level=Level.COUNTY.value,
        action=action,
        detail=detail,
        request_id=actor.request_id,
        division_code=county,
    )


def delegation_entity(delegation_id: str, town: str) -> str:
    """The stream of a delegation's messages to one town: its grant, then its revocation."""
    return f"delegation:{delegation_id}:{town}"


def is_town(code: str) -> bool:
    return level_of_division(code) is Level.TOWN


def _every_town(towns_of_county: Sequence[str] | None) -> list[str]:
    """Every town of the county, for a delegation to all of them: the town store must
    answer to say which they are."""
    if towns_of_county is None:
        raise DomainError(ErrorCode.NODE_UNAVAILABLE, field=["input", "towns"], detail="TOWN")
    return list(towns_of_county)


async def _next_id(session: AsyncSession, county: str) -> str:
    last = await session.scalar(
        select(func.max(Delegation.id)).where(Delegation.from_division_code == county)
    )
    seq = int(last.rsplit("-G", 1)[1]) + 1 if last else 1
    return f"{county}-G{seq:04d}"


def _item(impl: MatterImplementation, guide: Sequence[ImplementationMaterial]) -> dict[str, Any]:
    return {
        "basicCode": impl.basic_code,
        "handlingKind": impl.handling_kind.value,
        "promisedDays": impl.promised_time_limit_days,
        "promiseExceptionReason": impl.promise_exception_reason,
        "conditions": impl.conditions,
        "specialProcedures": impl.special_procedures,
        "fees": impl.fees,
        "maxVisits": impl.max_visits,
        "onlineLevel": impl.online_level.value,
        "deliveryMethods": impl.delivery_methods,
        "villageModes": impl.village_modes,
        # a town deciding a delegated matter issues the same e-licence, in its own name
        "issuesLicenceType": impl.issues_licence_type,
        "toleranceConsequence": impl.tolerance_consequence,
        # below a town, only a village station may still hand it in
        "receiveLevels": [v for v in impl.receive_levels if v == Level.VILLAGE.value],
        "materials": [
            {
                "name": g.name,
                "basis": g.basis,
                "form": g.form.value,
                "copies": g.copies,
                "tolerable": g.tolerable,
                "licence": g.satisfied_by_licence_type,
            }
            for g in guide
        ],
    }


async def delegate_matter(
    draft: DelegationDraft,
    *,
    towns_of_county: Sequence[str] | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    lacking_department: Collection[str] = (),
) -> tuple[DelegationView, list[str]]:
    """Write the delegation and one message per town; ``towns_of_county`` are the
    county's towns (from the town store; None when it does not answer: the towns named
    are then taken on their codes, and the town store checks them when the message
    arrives), ``lacking_department`` those of them without ``draft.town_department``.
    Returns the delegation and the message ids."""
    impl = await session.get(MatterImplementation, draft.implementation_code)
    if (
        impl is None
        or impl.level is not Level.COUNTY
        or impl.status is not MatterStatus.PUBLISHED
        or impl.delegated_from is not None
        or (actor.org_code is not None and impl.org_code != actor.org_code)
    ):
        raise DomainError(
            DelegationErrorCode.NOT_HELD_BY_COUNTY, field=["input", "implementationCode"]
        )
    county = impl.division_code
    prefix = parse_division(county).prefix
    towns = list(dict.fromkeys(t.strip() for t in draft.towns))
    for i, town in enumerate(towns):
        known = town in towns_of_county if towns_of_county is not None else is_town(town)
        if not town.startswith(prefix) or not known:
            raise DomainError(
                DelegationErrorCode.TOWN_NOT_IN_COUNTY, field=["input", "towns", str(i)]
            )
    targets = towns or _every_town(towns_of_county)
    if not targets:
        raise DomainError(DelegationErrorCode.TOWN_NOT_IN_COUNTY, field=["input", "towns"])
    department = (draft.town_department or "").strip() or None
    lacking = [t for t in targets if t in lacking_department]
    if department is not None and lacking:
        raise DomainError(
            DelegationErrorCode.TOWN_DEPARTMENT_NOT_FOUND,
            field=["input", "townDepartment"],
            detail=", ".join(lacking),
        )
    instrument = draft.legal_instrument.strip()
    if not instrument or len(instrument) > 2000:
        raise DomainError(
            DelegationErrorCode.LEGAL_INSTRUMENT_REQUIRED, field=["input", "legalInstrument"]
        )
    if draft.effective_from < china_date(now):
        raise DomainError(DelegationErrorCode.EFFECTIVE_DATE_PAST, field=["input", "effectiveFrom"])
    current = (
        await session.scalars(
            select(Delegation).where(
                Delegation.implementation_code == impl.code, Delegation.revoked_at.is_(None)
            )
        )
    ).all()
    for row in current:
        named = set(
            (
                await session.scalars(
                    select(DelegationTarget.town_code).where(
                        DelegationTarget.delegation_id == row.id
                    )
                )
            ).all()
        )
        if row.all_towns or named & set(targets):
            raise DomainError(
                DelegationErrorCode.ALREADY_DELEGATED, field=["input", "towns"], detail=row.id
            )
    guide = (
        await session.scalars(
            select(ImplementationMaterial)
            .where(ImplementationMaterial.implementation_code == impl.code)
            .order_by(ImplementationMaterial.position)
        )
    ).all()
    row = Delegation(
        id=await _next_id(session, county),
        implementation_code=impl.code,
        basic_code=impl.basic_code,
        from_org_code=impl.org_code,
        from_division_code=county,
        all_towns=not towns,
        legal_instrument=instrument,
        effective_from=draft.effective_from,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    session.add_all(DelegationTarget(delegation_id=row.id, town_code=t) for t in towns)
    item = _item(impl, guide)
    messages = []
    for town in targets:
        message = await enqueue(
            session,
            topic=GRANTED,
            source=Level.COUNTY,
            target=Level.TOWN,
            division_code=town,
            entity=delegation_entity(row.id, town),
            payload={
                "delegationId": row.id,
                "countyItem": impl.code,
                "town": town,
                "department": department,
                "item": item,
            },
            now=now,
        )
        messages.append(message)
    ids = [m.id for m in messages]
    event = await append(
        _audit(
            actor,
            DELEGATE_ACTION,
            county,
            {"delegation": row.id, "implementation": impl.code, "towns": targets, "messages": ids},
        ),
        session=session,
        now=now,
    )
    _carry(messages, event)
    return DelegationView(row, tuple(sorted(towns))), ids


async def revoke_delegation(
    delegation_id: str,
    reason: str,
    *,
    towns_of_county: Sequence[str] | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> DelegationView:
    row = await session.get(Delegation, delegation_id, with_for_update=True)
    if row is None or (actor.org_code is not None and row.from_org_code != actor.org_code):
        raise DomainError(DelegationErrorCode.DELEGATION_NOT_FOUND, field=["input", "id"])
    if row.revoked_at is not None:
        raise DomainError(DelegationErrorCode.ALREADY_REVOKED, field=["input", "id"])
    text = reason.strip()
    if not text or len(text) > 2000:
        raise DomainError(DelegationErrorCode.REASON_REQUIRED, field=["input", "reason"])
    row.revoked_at = now
    row.revoke_reason = text
    named = (
        await session.scalars(
            select(DelegationTarget.town_code).where(DelegationTarget.delegation_id == row.id)
        )
    ).all()
    targets = _every_town(towns_of_county) if row.all_towns else list(named)
    messages = []
    for town in targets:
        message = await enqueue(
            session,
            topic=REVOKED,
            source=Level.COUNTY,
            target=Level.TOWN,
            division_code=town,
            entity=delegation_entity(row.id, town),
            payload={"delegationId": row.id, "town": town, "basicCode": row.basic_code},
            now=now,
        )
        messages.append(message)
    ids = [m.id for m in messages]
    event = await append(
        _audit(
            actor,
            REVOKE_ACTION,
            row.from_division_code,
            {"delegation": row.id, "reason": text, "messages": ids},
        ),
        session=session,
        now=now,
    )
    _carry(messages, event)
    return DelegationView(row, tuple(sorted(named)))


def _carry(messages: Sequence[OutboxMessage], event: AuditEvent) -> None:
    """Each message carries the county's hand-over event, for the town's first event
    to link to (the payload is signed when the message is sent)."""
    for message in messages:
        message.payload = carry_handover(message.payload, event)


async def _town_org(session: AsyncSession, town: str) -> ServiceOrg:
    org = await session.scalar(select(ServiceOrg).where(ServiceOrg.division_code == town))
    if org is None:
        raise DomainError(DelegationErrorCode.TOWN_NOT_IN_COUNTY, detail=town)
    return org


async def _town_event(
    session: AsyncSession,
    org: ServiceOrg,
    action: str,
    envelope: Envelope,
    item: str,
    now: dt.datetime,
) -> None:
    """The town's half of a delegation handoff, in its audit trail with the message id."""
    await append(
        EventDraft(
            actor_id="relay",
            actor_kind="SYSTEM",
            role=None,
            channel="SYSTEM",
            org_code=org.code,
            level=Level.TOWN.value,
            action=action,
            detail=with_handover(
                {
                    "message": envelope.id,
                    "delegation": envelope.payload["delegationId"],
                    "item": item,
                },
                envelope.payload,
            ),
            division_code=org.division_code,
        ),
        session=session,
        now=now,
    )


@handler(GRANTED)
async def publish_town_item(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """The town publishes its own item for the delegated matter (a copy of the
    county's), or publishes again the one a former delegation left."""
    p = envelope.payload
    item = p["item"]
    org = await _town_org(session, p["town"])
    code = make_implementation_code(org.code, Level.TOWN, item["basicCode"])
    department = None
    if p.get("department"):
        department = await session.scalar(
            select(Department.id).where(
                Department.org_code == org.code, Department.name == p["department"]
            )
        )
        if department is None:
            # granted while the town store was down: refused here, an incident
            raise DomainError(DelegationErrorCode.TOWN_DEPARTMENT_NOT_FOUND, detail=p["department"])
    row = await session.get(MatterImplementation, code)
    if row is None:
        row = MatterImplementation(code=code, basic_code=item["basicCode"], org_code=org.code)
        session.add(row)
    row.division_code = p["town"]
    row.level = Level.TOWN
    row.department_id = department
    row.handling_kind = HandlingKind(item["handlingKind"])
    row.promised_time_limit_days = item["promisedDays"]
    row.promise_exception_reason = item["promiseExceptionReason"]
    row.conditions = item["conditions"]
    row.special_procedures = item["specialProcedures"]
    row.fees = item["fees"]
    row.max_visits = item["maxVisits"]
    row.online_level = OnlineLevel(item["onlineLevel"])
    row.delivery_methods = item["deliveryMethods"]
    row.village_modes = item["villageModes"]
    row.receive_levels = item["receiveLevels"]
    row.issues_licence_type = item.get("issuesLicenceType")
    row.tolerance_consequence = item.get("toleranceConsequence")
    row.preliminary_review = False
    row.delegated_from = p["countyItem"]
    row.delegation_id = p["delegationId"]
    row.status = MatterStatus.PUBLISHED
    row.updated_at = now
    await session.flush()
    await session.execute(
        delete(ImplementationMaterial).where(ImplementationMaterial.implementation_code == code)
    )
    session.add_all(
        ImplementationMaterial(
            implementation_code=code,
            position=n,
            name=m["name"],
            basis=m["basis"],
            form=MaterialForm(m["form"]),
            copies=m["copies"],
            tolerable=m["tolerable"],
            satisfied_by_licence_type=m["licence"],
        )
        for n, m in enumerate(item["materials"], start=1)
    )
    await _town_event(session, org, "RECEIVE_DELEGATION", envelope, code, now)


@handler(REVOKED)
async def abolish_town_item(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """The town's delegated item is abolished: new applications go to the county; a
    case in flight still finds it to be finished here."""
    p = envelope.payload
    org = await _town_org(session, p["town"])
    code = make_implementation_code(org.code, Level.TOWN, p["basicCode"])
    row = await session.get(MatterImplementation, code)
    if row is not None and row.delegation_id == p["delegationId"]:
        row.status = MatterStatus.ABOLISHED
        row.updated_at = now
    await _town_event(session, org, "REVOKE_DELEGATION", envelope, code, now)
