"""Per-request DataLoader of the languages an org's staff serve in (藏汉双语), keyed by
(level, org code)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.enums import Level
from levels.windows import languages
from levels.windows.models import StaffLanguages
from resolvers.level_loader import LevelLoader


class StaffLanguagesByOrgLoader(LevelLoader[tuple[Level, str], StaffLanguages]):
    many = True

    def levels_of(self, key: tuple[Level, str]) -> Sequence[Level]:
        return (key[0],)

    def node_key(self, key: tuple[Level, str]) -> str:
        return key[1]

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[StaffLanguages]:
        return await languages.staff_languages(keys, session=session)

    def answers(self, level: Level, row: StaffLanguages) -> tuple[Level, str]:
        return (level, row.org_code)
