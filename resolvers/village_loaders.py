"""Per-request DataLoaders of the village station's service records, by case number:
a case received at a village keeps them in the village store (its number names the
village), wherever the case has gone since."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.village import services as village_services
from levels.village.models import HomeVisit, VillageService
from resolvers.level_loader import LevelLoader
from resolvers.sessions import RequestSessions


def _village_of(number: str) -> Sequence[Level]:
    return (Level.VILLAGE,) if level_of_division(number[:12]) is Level.VILLAGE else ()


class VillageServiceByCaseLoader(LevelLoader[str, VillageService]):
    def levels_of(self, key: str) -> Sequence[Level]:
        return _village_of(key)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[VillageService]:
        return await village_services.services_by_case(keys, session=session)

    def answers(self, level: Level, row: VillageService) -> str:
        return row.case_number


class HomeVisitsByCaseLoader(LevelLoader[str, HomeVisit]):
    many = True

    def levels_of(self, key: str) -> Sequence[Level]:
        return _village_of(key)

    async def fetch(self, keys: list[str], *, session: AsyncSession) -> Sequence[HomeVisit]:
        return await village_services.visits_by_case(keys, session=session)

    def answers(self, level: Level, row: HomeVisit) -> str:
        return row.case_number


@dataclass
class VillageLoaders:
    service_by_case: VillageServiceByCaseLoader
    visits_by_case: HomeVisitsByCaseLoader

    @classmethod
    def create(cls, sessions: RequestSessions, timeout: float) -> VillageLoaders:
        return cls(
            service_by_case=VillageServiceByCaseLoader(sessions, timeout),
            visits_by_case=HomeVisitsByCaseLoader(sessions, timeout),
        )
