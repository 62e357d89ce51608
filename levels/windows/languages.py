"""The languages windows and their staff serve in (003 "1个综合性藏汉双语咨询服务导办台"),
in the store of the window's org: a window declares the languages of its desk, each
staff member of the org the languages they speak, and a window serves in the
languages it declares and those of the staff named on its A and B posts. A ticket that
asks for a language is routed to a window serving it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.cases.service import Actor
from levels.common.errors import DomainError
from levels.common.languages import LanguageErrorCode
from levels.common.models import Window
from levels.windows.models import StaffLanguages, WindowSetup
from levels.windows.service import StaffRef, audit, setup_of, window_of


async def set_window_languages(
    window_id: str, languages: list[str], *, session: AsyncSession, actor: Actor, now: dt.datetime
) -> WindowSetup:
    """The languages a window's desk serves in (checked codes, in order)."""
    window = await window_of(session, window_id)
    row = await setup_of(session, window, now)
    before = list(row.languages or [])
    row.languages = list(languages)
    row.updated_at = now
    await session.flush()
    await audit(
        session, actor, "SET_WINDOW_LANGUAGES", now, window_id=window.id,
        detail={"before": before, "after": row.languages},
    )  # fmt: skip
    return row


async def set_staff_languages(
    window: Window,
    staff: StaffRef,
    languages: list[str],
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
) -> StaffLanguages:
    """The languages a staff member of the window's org speaks (for every window of
    the org they are named on)."""
    row = await session.get(StaffLanguages, (window.org_code, staff.id), with_for_update=True)
    before = list(row.languages) if row is not None else []
    if row is None:
        row = StaffLanguages(org_code=window.org_code, staff_id=staff.id, staff_name=staff.name)
        session.add(row)
    row.staff_name = staff.name
    row.languages = list(languages)
    row.updated_at = now
    await session.flush()
    await audit(
        session, actor, "SET_STAFF_LANGUAGES", now, window_id=window.id,
        detail={"staff": staff.id, "before": before, "after": row.languages},
    )  # fmt: skip
    return row


async def staff_languages(
    org_codes: Sequence[str], *, session: AsyncSession
) -> Sequence[StaffLanguages]:
    stmt = select(StaffLanguages).where(StaffLanguages.org_code.in_(list(org_codes)))
    return (await session.scalars(stmt.order_by(StaffLanguages.staff_id))).all()


def window_languages(setup: WindowSetup | None, staff: Mapping[str, Sequence[str]]) -> list[str]:
    """What a window serves in: its own languages, then those of its A and B staff."""
    if setup is None:
        return []
    found = list(setup.languages or [])
    for staff_id in (setup.a_staff_id, setup.b_staff_id):
        for code in staff.get(staff_id or "", ()):
            if code not in found:
                found.append(code)
    return found


def serving(
    windows: Sequence[Window],
    setups: Mapping[str, WindowSetup],
    staff: Mapping[str, Sequence[str]],
    language: str,
    *,
    field: list[str],
) -> list[Window]:
    """The windows among ``windows`` serving in ``language`` (LANGUAGE_NOT_SERVED when
    none does)."""
    found = [w for w in windows if language in window_languages(setups.get(w.id), staff)]
    if not found:
        raise DomainError(LanguageErrorCode.LANGUAGE_NOT_SERVED, field=field, detail=language)
    return found


async def staff_map(org_code: str, *, session: AsyncSession) -> dict[str, list[str]]:
    return {
        r.staff_id: list(r.languages) for r in await staff_languages([org_code], session=session)
    }
