"""The other changes of a case the hub asks of the node that holds it: the result of
an online application's pre-review (网上预审, ``levels/cases/prereview_record.py``),
a promised material handed in and a director's waiver of it (容缺受理,
``levels/cases/handin.py``), and a department's decision on its part of a joint case
(联办, ``levels.cases.service.decide_part``). Each runs those rules in the node's own
transaction, due timers first (``steps.change_case``), with its audit event in the
node's chain; what the change needs travels as a step's input (``StepInput``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from levels.cases import handin
from levels.cases import service as case_service
from levels.cases.enums import PreReviewResult
from levels.cases.models import Case
from levels.cases.prereview_record import record_pre_review
from levels.cases.service import Actor, StepInput
from levels.common.errors import DomainError, ErrorCode
from levels.node.steps import StepOutcome, change_by_rule, change_case, given_change


def pre_review_result(value: str) -> PreReviewResult:
    """A pre-review result by its name; BAD_USER_INPUT otherwise."""
    try:
        return PreReviewResult(value)
    except ValueError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, field=["result"], detail=value[:200]) from None


async def give_pre_review(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    result: PreReviewResult,
    given: StepInput,
    *,
    actor: Actor,
    now: dt.datetime,
) -> StepOutcome:
    """网上预审's result (``given.missing``: what is missing or wrong)."""
    return await change_by_rule(
        sessions,
        number,
        record_pre_review,
        result,
        given.missing,
        given=given,
        actor=actor,
        now=now,
    )


# 补交容缺材料 (``given.materials``)
hand_in_tolerated = given_change(handin.hand_in, "materials")
# a director's waiver of the outstanding material, for ``given.reasons``
override_tolerance = given_change(handin.override, "reasons")


async def decide_part(
    sessions: async_sessionmaker[AsyncSession],
    number: str,
    implementation_code: str,
    given: StepInput,
    *,
    actor: Actor,
    now: dt.datetime,
) -> StepOutcome:
    """联办: a department's decision on its part (``given.decision``, ``reasons``)."""

    async def decide(session: AsyncSession) -> Case:
        return await case_service.decide_part(
            number, implementation_code, given, session=session, actor=actor, now=now
        )

    return await change_case(sessions, number, decide, now=now)
