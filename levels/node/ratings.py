"""好差评 at the node that holds the case (DESIGN §2, "A node is a service"):
``rateCase`` asked by the hub, written by the rules of ``levels/evaluations/service.py``
in the node's own transaction — the rating, its audit event and, for a 差评, the
rectification it opens with its own event, together or nothing.

Who may rate (the applicant, reading the case) is the hub's check, made on the row it
read before it calls; the node's rules check the rest again (the applicant, a result,
the channel, one rating a channel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.calendar.workdays import load_calendar
from levels.cases.service import Actor
from levels.common.errors import DomainError
from levels.evaluations import service
from levels.evaluations.enums import RatingLevel
from levels.evaluations.models import Evaluation, Rectification

T = TypeVar("T")


@dataclass(frozen=True)
class RatingOutcome:
    """The rating as written and the rectification it opened (None: refused, nothing
    written), and the refusal."""

    evaluation: Evaluation | None
    rectification: Rectification | None = None
    error: DomainError | None = None


async def written(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, DomainError | None]:
    """``work`` in one transaction of this node's store: what it made, committed, or
    its refusal with nothing written. The writes of 好差评 here share it."""
    async with sessions() as session:
        try:
            made = await work(session)
            await session.commit()
        except DomainError as e:
            await session.rollback()
            return None, e
        except BaseException:
            await session.rollback()
            raise
    return made, None


async def rate_case(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    rating: RatingLevel,
    comment: str | None,
    *,
    actor: Actor,
    now: dt.datetime,
    rectification_days: int,
) -> RatingOutcome:
    """好差评 of case ``number`` in this node's transaction; a refusal writes nothing."""

    async def work(session: AsyncSession) -> service.Rated:
        return await service.rate_case(
            number,
            rating,
            comment,
            session=session,
            actor=actor,
            now=now,
            calendar=await load_calendar(session=session),
            rectification_days=rectification_days,
        )

    rated, error = await written(sessions, work)
    if rated is None:
        return RatingOutcome(None, None, error)
    return RatingOutcome(rated.evaluation, rated.rectification)
