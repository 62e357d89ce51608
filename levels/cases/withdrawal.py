"""撤回 of a case: the applicant takes back a case not yet decided, wherever it is.

Where the case is held, the withdrawal is a step (``Step.WITHDRAW``). A case referred
up (转报) and still on its way is held nowhere yet: the row where it was says REFERRED.
Its withdrawal then follows it as a message of the same entity (``case:<number>``) to
the same level, numbered after the referral — so the receiving store applies it only
once the referral is in, whatever the delivery order, and exactly once however often
it is delivered. There the case is withdrawn as the applicant's step; if it was
referred on meanwhile, the withdrawal follows it again; if it was decided meanwhile,
the receiving store records that the withdrawal came too late and changes nothing.

Each store audits its half with the message id (``levels/cases/handover.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases import referral, steps
from levels.cases.enums import CaseStatus
from levels.cases.errors import CaseErrorCode
from levels.cases.handover import hand_over, received
from levels.cases.machine import OPEN_STATUSES, Step
from levels.cases.models import Case
from levels.cases.service import (
    Actor,
    StepInput,
    _check_version,
    load_case_for_update,
    record_event,
)
from levels.common.errors import DomainError
from levels.licences.service import Issuing
from levels.outbox.models import OutboxMessage
from levels.outbox.service import Envelope, enqueue, handler

TOPIC = "case.withdrawn"
# the store where the case was sends the withdrawal after it
SEND_ACTION = "SEND_WITHDRAWAL"
# the case was decided (or closed) before the withdrawal reached it
LATE_ACTION = "WITHDRAWAL_TOO_LATE"


async def withdraw(
    number: str,
    given: StepInput,
    *,
    session: AsyncSession,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    issuing: Issuing | None = None,
) -> Case:
    """The applicant withdraws ``number`` in ``session``'s store: the step, where the
    case is held; after the referral, where it is on its way up. Returns the row here
    (REFERRED, in the latter case: the trail shows the withdrawal sent)."""
    case = await load_case_for_update(number, session=session)
    if case.status is not CaseStatus.REFERRED:
        return await steps.take_step(
            number,
            Step.WITHDRAW,
            given,
            session=session,
            actor=actor,
            now=now,
            calendar=calendar,
            issuing=issuing,
        )
    _check_version(case, given.expected_version)
    sent = await session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.case_number == number, OutboxMessage.topic == TOPIC
        )
    )
    if sent is not None:
        raise DomainError(CaseErrorCode.WITHDRAWAL_UNDER_WAY, field=["input", "number"])
    await _send_after(session, case, _by(actor), actor=actor, now=now, detail={})
    return case


async def _send_after(
    session: AsyncSession,
    case: Case,
    by: dict[str, Any],
    *,
    actor: Actor,
    now: dt.datetime,
    detail: dict[str, Any],
) -> OutboxMessage:
    """The withdrawal of ``case`` (REFERRED here) after its referral: same entity, same
    target level and division, the next number."""
    referred = await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.case_number == case.number,
            OutboxMessage.topic == referral.TOPIC,
            OutboxMessage.target_level == case.referred_to_level,
        )
        .order_by(OutboxMessage.entity_seq.desc())
        .limit(1)
    )
    if referred is None or case.referred_to_level is None:
        # REFERRED without the message that carries it: nothing to follow
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, detail="WITHDRAW from REFERRED")
    message = await enqueue(
        session,
        topic=TOPIC,
        source=case.level,
        target=case.referred_to_level,
        payload={"number": case.number, "by": by},
        now=now,
        case_number=case.number,
        entity=referred.entity,
        target_division=referred.target_division,
    )
    await hand_over(
        session,
        case,
        message,
        actor=actor,
        action=SEND_ACTION,
        before=case.status,
        now=now,
        detail=detail,
    )
    return message


def _by(actor: Actor) -> dict[str, Any]:
    """Who withdrew, as the message carries it: the receiving store records them."""
    return {"id": actor.id, "kind": actor.kind, "role": actor.role, "channel": actor.channel}


def _actor(by: dict[str, Any]) -> Actor:
    return Actor(
        id=str(by["id"]), kind=str(by["kind"]), role=by.get("role"), channel=by.get("channel")
    )


@handler(TOPIC)
async def receive_withdrawal(session: AsyncSession, envelope: Envelope, now: dt.datetime) -> None:
    """The withdrawal reaches the store its referral reached (the inbox applied the
    referral first): the case is withdrawn here, or the withdrawal follows it on, or it
    came too late."""
    number = str(envelope.payload["number"])
    by = envelope.payload["by"]
    case = await session.get(Case, number, with_for_update=True, populate_existing=True)
    if case is None:
        # the referral before it was applied here, so this never happens: an incident
        raise DomainError(CaseErrorCode.CASE_NOT_FOUND, detail=number)
    applicant = _actor(by)
    if case.status is CaseStatus.REFERRED and case.referred_to_level is not None:
        # referred on before the withdrawal came: it follows the case up
        detail = received(envelope)
        detail["received"] = detail.pop("message")
        await _send_after(session, case, by, actor=applicant, now=now, detail=detail)
    elif case.status in OPEN_STATUSES:
        await steps.take_step(
            number,
            Step.WITHDRAW,
            StepInput(detail=received(envelope)),
            session=session,
            actor=applicant,
            now=now,
            calendar=await load_calendar(session=session),
        )
    elif case.status is not CaseStatus.WITHDRAWN:
        await record_event(
            session, case, applicant, LATE_ACTION, case.status, now, received(envelope)
        )
