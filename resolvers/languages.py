"""Resolvers of the languages desks serve in and applicants read (003 "1个综合性藏汉双语
咨询服务导办台"): the windows of an org serving a language, the languages of a window and
of its staff (the hall manager's), and the language a submission records for its
applicant. Thin: parse, check the policy table (through the window mutations'
``_on_window``), call ``levels/windows/languages``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth.policy import Action
from levels.cases.service import china_date
from levels.common.errors import DomainError
from levels.common.languages import optional_language, parse_language, parse_languages
from levels.common.models import Window as WindowRow
from levels.windows import languages
from levels.windows.errors import WindowErrorCode
from resolvers.windows import _on_window, _staff
from schema.divisions import Window
from schema.info import Info
from schema.windows import WindowPayload


def applicant_language(input: Any) -> str | None:
    """The language a submission records for its applicant (None: Chinese)."""
    return optional_language(input.applicant_language, ["input", "applicantLanguage"])


async def serving(info: Info, windows: list[Window], language: str) -> list[Window]:
    """Those of ``windows`` (one org's) that serve in ``language``: two statements on
    the org's store (its board of today, its staff's languages), shared with the
    windows' own fields."""
    code = parse_language(language, field=["language"])
    if not windows:
        return []
    first = windows[0]
    today = china_date(info.context.clock.now())
    board = await info.context.loaders.board_by_org.load((first.level, first.org_code, today))
    rows = await info.context.loaders.staff_languages_by_org.load((first.level, first.org_code))
    staff = {r.staff_id: list(r.languages) for r in rows}
    return [
        w for w in windows if code in languages.window_languages(board.setups.get(w.key), staff)
    ]


async def set_window_languages(info: Info, input: Any) -> WindowPayload:
    async def given(_window: WindowRow) -> Mapping[str, Any]:
        return {"languages": parse_languages(input.languages, field=["input", "languages"])}

    return await _on_window(info, input.window_id, Action.MANAGE_WINDOW, "SET_LANGUAGES", given)


async def set_staff_languages(info: Info, input: Any) -> WindowPayload:
    async def given(window: WindowRow) -> Mapping[str, Any]:
        codes = parse_languages(input.languages, field=["input", "languages"])
        staff = await _staff(info, input.staff, window, "staff")
        if staff is None:
            raise DomainError(WindowErrorCode.STAFF_NOT_FOUND, field=["input", "staff"])
        return {"staff": staff, "languages": codes}

    change = "SET_STAFF_LANGUAGES"
    return await _on_window(info, input.window_id, Action.MANAGE_WINDOW, change, given)
