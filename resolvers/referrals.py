"""Resolver of referCase (转报): the case goes up its route through the outbox. Only
the stores on the way are asked; one that does not answer is named when the message
arrives, so a referral is written while a town is down and delivered when it is back."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action
from levels.cases import referral, referral_rules
from levels.cases.errors import CaseErrorCode
from levels.cases.materials import MaterialDraft
from levels.cases.models import Case
from levels.cases.service import Actor
from levels.common.codes import parse_implementation_code
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation
from resolvers.cases import act_on_case, display_name
from resolvers.fanout import NodeUnavailable
from schema.cases import CasePayload
from schema.info import Info


async def refer(
    info: Info, number: str, opinion: str | None, expected_version: int | None
) -> CasePayload:
    """转报: send the case up its route — to the town that reviews first, or to the
    org that decides it — through the outbox."""
    ctx = info.context
    now = ctx.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        row = await session.get(Case, number)
        assert row is not None  # act_on_case found it
        impl = await _deciding_item(info, row)
        review_town: tuple[str | None, str] | None = None
        if row.level is Level.VILLAGE and referral.town_reviews_first(impl):
            # the town is asked only when it is on the way; down, it is named on arrival
            town = f"{row.division_code[:9]}000"
            try:
                org = await ctx.loaders.service_org_by_division.load(town)
                review_town = (org.code, town) if org is not None else None
            except NodeUnavailable:
                review_town = (None, town)
        return await referral.refer_case(
            number,
            opinion=opinion,
            reviewer_name=await display_name(info),
            expected_version=expected_version,
            impl=impl,
            review_town=review_town,
            session=session,
            actor=actor,
            now=now,
        )

    return await act_on_case(info, number, Action.REFER_CASE, change, now=now)


async def _deciding_item(info: Info, row: Case) -> MatterImplementation:
    """The item the case is decided under. A village case of its town's item goes to
    that town whatever the item says, so while the town store does not answer the
    referral is written all the same (the message waits for the town)."""
    try:
        impl = await info.context.loaders.implementation_by_code.load(row.implementation_code)
    except NodeUnavailable:
        code = parse_implementation_code(row.implementation_code)
        if row.level is not Level.VILLAGE or code.level is not Level.TOWN:
            raise
        return MatterImplementation(
            code=code.code,
            basic_code=code.basic_code,
            org_code=code.org_code,
            level=Level.TOWN,
            division_code=f"{row.division_code[:9]}000",
            preliminary_review=False,
            receive_levels=[Level.VILLAGE.value],
        )
    if impl is None:
        raise DomainError(CaseErrorCode.IMPLEMENTATION_NOT_IN_FORCE, field=["input", "number"])
    return impl


async def complete_file(
    info: Info, number: str, drafts: list[MaterialDraft], expected_version: int | None
) -> CasePayload:
    """收集: what the file lacks, added where the case waits to be referred (whoever may
    refer it may complete it)."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await referral_rules.complete_file(
            number,
            drafts,
            expected_version=expected_version,
            session=session,
            actor=actor,
            now=now,
        )

    return await act_on_case(info, number, Action.REFER_CASE, change, now=now)


async def notify_station(
    info: Info,
    number: str,
    missing: list[tuple[str, str | None]],
    expected_version: int | None,
) -> CasePayload:
    """一次性告知 to the station that received a referred case."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await referral_rules.notify_station(
            number,
            missing,
            expected_version=expected_version,
            session=session,
            actor=actor,
            now=now,
        )

    return await act_on_case(info, number, Action.NOTIFY_STATION, change, now=now)


async def supplement_at_station(
    info: Info, number: str, drafts: list[MaterialDraft], expected_version: int | None
) -> CasePayload:
    """The station supplies what the notice listed, for the resident."""
    now = info.context.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        return await referral_rules.supplement_at_station(
            number,
            drafts,
            expected_version=expected_version,
            session=session,
            actor=actor,
            now=now,
        )

    return await act_on_case(info, number, Action.SUPPLEMENT_AT_STATION, change, now=now)
