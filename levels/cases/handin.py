"""容缺受理 after acceptance: the promised material is handed in (by the applicant,
online, or at the counter), or a director lets the case be decided without it — a
reason recorded and audited. Neither moves the case's status; both move its version,
so an approval racing a hand-in either waits for it (the case row is locked) or
meets VERSION_CONFLICT. The rules of the commitment are in ``tolerance.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases import paperless, tolerance
from levels.cases.enums import MaterialState
from levels.cases.errors import CaseErrorCode
from levels.cases.machine import OPEN_STATUSES
from levels.cases.materials import MaterialDraft, check_reference
from levels.cases.models import Case, CaseTolerance
from levels.cases.service import Actor, load_case_for_update, record_event
from levels.common.errors import DomainError

REASON_LIMIT = 2000


async def _held(
    session: AsyncSession, number: str, actor: Actor, expected_version: int | None
) -> tuple[Case, CaseTolerance]:
    """The case, locked, with a commitment still open: refused when it lapsed
    (TOLERANCE_DEADLINE_PASSED), when the case is no longer open, or when nothing was
    promised."""
    case = await load_case_for_update(number, session=session)
    if expected_version is not None and expected_version != case.version:
        raise DomainError(
            CaseErrorCode.VERSION_CONFLICT,
            field=["input", "expectedVersion"],
            detail=f"now {case.version}",
        )
    if actor.kind == "STAFF" and actor.org_code != case.org_code:
        raise DomainError(CaseErrorCode.NOT_AT_THIS_ORG, field=["input", "number"])
    row = await tolerance.commitment(session, case)
    if row is not None and row.lapsed_at is not None:
        raise DomainError(
            CaseErrorCode.TOLERANCE_DEADLINE_PASSED,
            field=["input", "number"],
            detail=row.due_on.isoformat(),
        )
    if case.status not in OPEN_STATUSES:
        raise DomainError(
            CaseErrorCode.INVALID_TRANSITION, field=["input", "number"], detail=case.status.value
        )
    if row is None:
        raise DomainError(CaseErrorCode.NO_TOLERANCE_OUTSTANDING, field=["input", "number"])
    return case, row


async def hand_in(
    number: str,
    drafts: Sequence[MaterialDraft],
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """补交容缺材料: each material named must be one promised and still outstanding;
    when the last one comes the promise is kept and its deadline stops acting."""
    case, row = await _held(session, number, actor, expected_version)
    if not drafts:
        raise DomainError(CaseErrorCode.NOTHING_TO_SUPPLEMENT, field=["input", "materials"])
    waiting = {m.name: m for m in await tolerance.outstanding(session, case)}
    given: list[dict[str, str]] = []
    for i, m in enumerate(drafts):
        where = ["input", "materials", str(i)]
        material = waiting.pop(m.name, None)
        if material is None or m.name not in row.materials:
            raise DomainError(CaseErrorCode.NOT_TOLERATED, field=[*where, "name"], detail=m.name)
        check_reference(m, where)
        paperless.refuse_replacing(material, m.source, [*where, "source"])
        material.source, material.reference, material.state = (
            m.source,
            m.reference,
            MaterialState.PROVIDED,
        )
        given.append({"name": m.name, "source": m.source.value})
    if not waiting:
        row.handed_in_at = now
        await tolerance.cancel_timers(session, case, now)
    case.updated_at = now  # the version moves: the materials are part of the case
    await session.flush()
    await record_event(
        session,
        case,
        actor,
        tolerance.HAND_IN_ACTION,
        case.status,
        now,
        {"materials": given, "outstanding": sorted(waiting), "dueOn": row.due_on.isoformat()},
    )
    return case


async def override(
    number: str,
    reason: str | None,
    *,
    expected_version: int | None,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> Case:
    """A director lets the case be decided without the outstanding material, for a
    reason (recorded on the commitment and in the audit trail). Once only; the
    promise is waived, so its deadline no longer acts."""
    case, row = await _held(session, number, actor, expected_version)
    if row.overridden_at is not None:
        raise DomainError(
            CaseErrorCode.TOLERANCE_ALREADY_OVERRIDDEN,
            field=["input", "number"],
            detail=row.overridden_by,
        )
    names = [m.name for m in await tolerance.outstanding(session, case)]
    if not names:
        raise DomainError(CaseErrorCode.NO_TOLERANCE_OUTSTANDING, field=["input", "number"])
    text = (reason or "").strip()
    if not text:
        raise DomainError(CaseErrorCode.REASONS_REQUIRED, field=["input", "reason"])
    if len(text) > REASON_LIMIT:
        raise DomainError(CaseErrorCode.TEXT_TOO_LONG, field=["input", "reason"])
    row.overridden_by, row.override_reason, row.overridden_at = actor.id, text, now
    await tolerance.cancel_timers(session, case, now)
    case.updated_at = now
    await session.flush()
    await record_event(
        session,
        case,
        actor,
        tolerance.OVERRIDE_ACTION,
        case.status,
        now,
        {"reason": text, "outstanding": names, "dueOn": row.due_on.isoformat()},
    )
    return case
