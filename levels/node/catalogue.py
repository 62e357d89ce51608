"""The catalogue's publication written at the node that keeps it, the one holding the
city level (DESIGN §2, "A node is a service"): ``publish`` takes the catalogue as it
stands as the next version (集中公布, or an urgent adjustment with its reason), by the
rules of ``levels/city/publication.py`` in the node's own transaction.

Who may publish is the hub's check (the policy table over the city); the node checks
that it keeps the city (DIVISION_NOT_OWNED, raised: the hub's map is stale) and
records who published. A rule's refusal, or another publication taking the version
number first (PUBLICATION_CONFLICT), comes back in the outcome with nothing written."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.city import publication as service
from levels.city.errors import CatalogueErrorCode
from levels.city.models import CataloguePublication
from levels.common.enums import Level
from levels.common.errors import DomainError, ErrorCode
from levels.node.scope import NodeScope
from levels.node.windows import Outcome, checked, in_transaction


async def publish(
    sessions: async_sessionmaker[AsyncSession],
    scope: NodeScope,
    city: str,
    *,
    urgent: bool,
    reason: str | None,
    by: str,
    now: dt.datetime,
) -> Outcome[CataloguePublication]:
    """Publish the catalogue of ``city`` (a city whose level this node keeps)."""
    division = scope.require(city, field="city")
    if division.level is not Level.CITY:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["city"], detail="not a city")
    checked(now)

    async def work(session: AsyncSession) -> CataloguePublication:
        try:
            return await service.publish_catalogue(
                session=session, now=now, by=by, urgent=urgent, reason=reason
            )
        except IntegrityError:
            # another publication took this version number first
            raise DomainError(CatalogueErrorCode.PUBLICATION_CONFLICT) from None

    return await in_transaction(sessions, work)
