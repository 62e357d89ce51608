"""What a referral (转报) owes the deciding org and the resident (seed 000 衔接办理;
seed 003: the village agent "收集、审核、上报").

* A whole file goes up. A case received below its deciding level is referred only when
  no material is MISSING or INCORRECT (a material promised for later, 容缺, may
  follow); otherwise REFERRAL_INCOMPLETE names every material still owed
  (``refuse_incomplete``). The org holding the case — the village station, or the town
  that reviews first — collects what is missing first (``complete_file``).
* The deciding org accepts a referred case on receipt and may not ask the resident for
  materials again ("不得要求申请人重复提供", NO_SECOND_REQUEST). It may still tell the
  *station* that received the case, once (一次性告知), what the file lacks
  (``notify_station``): the station supplies it — its agent uploads or hands it in —
  and the resident does not come again (``supplement_at_station``). Until then the
  decision waits (STATION_NOTICE_OPEN, ``hold_decision``); the handling clock keeps
  running, for the delay is the administration's, not the resident's.

Each notice is kept on the case (``station_notices``) with who asked, who supplied it
and when, and that the resident did not have to come."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases import paperless
from levels.cases.enums import CaseStatus, MaterialState
from levels.cases.errors import CaseErrorCode
from levels.cases.materials import MaterialDraft, check_reference
from levels.cases.models import Case, CaseMaterial
from levels.cases.service import (
    Actor,
    _at_org,
    _check_version,
    _materials,
    _text,
    load_case_for_update,
    record_event,
)
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation

COMPLETE_FILE_ACTION = "COMPLETE_FILE"
NOTIFY_STATION_ACTION = "NOTIFY_STATION"
STATION_SUPPLEMENT_ACTION = "STATION_SUPPLEMENT"
OWED = (MaterialState.MISSING, MaterialState.INCORRECT)
# where the deciding org may ask the station: accepted, not yet decided
NOTICE_STATUSES = (CaseStatus.ACCEPTED, CaseStatus.UNDER_REVIEW)


def owed(materials: Sequence[CaseMaterial]) -> list[str]:
    """The materials still owed: never handed in, or handed in wrong."""
    return [m.name for m in materials if m.state in OWED]


def refuse_incomplete(materials: Sequence[CaseMaterial]) -> None:
    """REFERRAL_INCOMPLETE, naming each material still owed, unless the file is whole."""
    names = owed(materials)
    if names:
        raise DomainError(
            CaseErrorCode.REFERRAL_INCOMPLETE, field=["input", "number"], detail="、".join(names)
        )


def open_notice(case: Case) -> dict[str, Any] | None:
    """The station notice still waiting for the station, if any."""
    notices = case.station_notices or []
    if notices and notices[-1].get("supplementedAt") is None:
        return dict(notices[-1])
    return None


def _transition(case: Case, step: str) -> DomainError:
    return DomainError(
        CaseErrorCode.INVALID_TRANSITION,
        field=["input", "number"],
        detail=f"{step} from {case.status.value}",
    )


def _supply(rows: dict[str, CaseMaterial], drafts: Sequence[MaterialDraft]) -> list[dict[str, Any]]:
    """Hand in ``drafts`` on the case's materials (each one the guide asks for, once, with
    its reference; never what the library holds on paper)."""
    seen: set[str] = set()
    supplied: list[dict[str, Any]] = []
    for i, m in enumerate(drafts):
        where = ["input", "materials", str(i)]
        row = rows.get(m.name)
        if row is None:
            raise DomainError(CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=[*where, "name"])
        if m.name in seen:
            raise DomainError(CaseErrorCode.DUPLICATE_MATERIAL, field=[*where, "name"])
        seen.add(m.name)
        check_reference(m, where)
        paperless.refuse_replacing(row, m.source, [*where, "source"])
        row.source, row.reference, row.state = m.source, m.reference, MaterialState.PROVIDED
        supplied.append({"name": m.name, "source": m.source.value})
    if not supplied:
        raise DomainError(CaseErrorCode.NOTHING_TO_SUPPLEMENT, field=["input", "materials"])
    return supplied


async def complete_file(
    number: str,
    drafts: Sequence[MaterialDraft],
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """收集: the org holding a case below its deciding level (the station, or the town
    that reviews first) adds what the file lacks before it refers it up."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, expected_version)
    _at_org(case, actor)
    # a node keeping several levels holds the deciding org's item beside the station's
    # case: decided here is the item's level being the case's, not the row being here
    item = await session.get(MatterImplementation, case.implementation_code)
    decided_here = item is not None and item.level is case.level
    if case.status is not CaseStatus.SUBMITTED or decided_here:
        # taken up here, or gone up already: the decider's notice is the way now
        raise _transition(case, COMPLETE_FILE_ACTION)
    supplied = _supply({m.name: m for m in await _materials(session, case)}, drafts)
    case.updated_at = now
    await session.flush()
    await record_event(
        session, case, actor, COMPLETE_FILE_ACTION, case.status, now, {"materials": supplied}
    )
    return case


async def notify_station(
    number: str,
    missing: Sequence[tuple[str, str | None]],
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """一次性告知 to the station: the deciding org lists, once, every material the
    referred file lacks or has wrong. The resident is not asked; the decision waits."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, expected_version)
    _at_org(case, actor)
    referred = case.received_level is not None and case.received_level is not case.level
    if case.status not in NOTICE_STATUSES or not referred:
        raise _transition(case, NOTIFY_STATION_ACTION)
    if case.station_notices:
        raise DomainError(CaseErrorCode.NO_SECOND_REQUEST, field=["input", "number"])
    rows = {m.name: m for m in await _materials(session, case)}
    listed: dict[str, str | None] = {}
    for i, (name, note) in enumerate(missing):
        where = ["input", "materials", str(i), "name"]
        if name not in rows:
            raise DomainError(CaseErrorCode.MATERIAL_NOT_IN_GUIDE, field=where)
        paperless.refuse_notice_of(rows[name], where)
        listed[name] = _text(note, 2000, "note") or None
    for name in owed(list(rows.values())):
        listed.setdefault(name, None)
    if not listed:
        raise DomainError(CaseErrorCode.NOTHING_TO_SUPPLEMENT, field=["input", "materials"])
    for name, note in listed.items():
        row = rows[name]
        row.state = (
            MaterialState.INCORRECT
            if row.state is MaterialState.PROVIDED
            else MaterialState.MISSING
        )
        row.note = note
    notice = {
        "station": case.number.split("-", 1)[0],
        "materials": [{"name": n, "note": note} for n, note in listed.items()],
        "issuedAt": now.isoformat(),
        "issuedBy": actor.id,
        "orgCode": case.org_code,
        "supplementedAt": None,
        "supplementedBy": None,
        "residentCameAgain": None,
    }
    case.station_notices = [notice]
    case.updated_at = now
    await session.flush()
    await record_event(
        session,
        case,
        actor,
        NOTIFY_STATION_ACTION,
        case.status,
        now,
        {"station": notice["station"], "materials": notice["materials"]},
    )
    return case


async def supplement_at_station(
    number: str,
    drafts: Sequence[MaterialDraft],
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """The station supplies everything the notice listed, for the resident, who does
    not come again; the decision may then be taken."""
    case = await load_case_for_update(number, session=session)
    _check_version(case, expected_version)
    notice = open_notice(case)
    if notice is None or case.status not in NOTICE_STATUSES:
        # nothing asked of the station, answered already, or the case moved on
        raise _transition(case, STATION_SUPPLEMENT_ACTION)
    rows = {m.name: m for m in await _materials(session, case)}
    supplied = _supply(rows, drafts)
    still = [m["name"] for m in notice["materials"] if rows[m["name"]].state in OWED]
    if still:
        raise DomainError(
            CaseErrorCode.SUPPLEMENT_INCOMPLETE,
            field=["input", "materials"],
            detail="、".join(still),
        )
    notice.update(supplementedAt=now.isoformat(), supplementedBy=actor.id, residentCameAgain=False)
    case.station_notices = [*(case.station_notices or [])[:-1], notice]
    case.updated_at = now
    await session.flush()
    await record_event(
        session,
        case,
        actor,
        STATION_SUPPLEMENT_ACTION,
        case.status,
        now,
        {"materials": supplied, "residentCameAgain": False},
    )
    return case


async def hold_decision(number: str, *, session: AsyncSession) -> None:
    """STATION_NOTICE_OPEN while the station has not supplied what it was told of."""
    case = await session.get(Case, number)
    if case is not None and open_notice(case) is not None:
        raise DomainError(CaseErrorCode.STATION_NOTICE_OPEN, field=["input", "number"])
