"""Resolvers of referCase (转报) and the station's file around it: the case goes up its
route through the outbox. Only the stores on the way are asked; one that does not
answer is named when the message arrives, so a referral is written while a town is down
and delivered when it is back. At a node the hub reaches through its API, each is asked
of the node holding the case (``referCase``, ``completeFile``, ``notifyStation``,
``supplementAtStation``), a referral with the route the hub read."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.policy import Action
from levels.cases import referral, referral_rules
from levels.cases.errors import CaseErrorCode
from levels.cases.materials import MaterialDraft
from levels.cases.models import Case
from levels.cases.service import Actor, StepInput
from levels.common.codes import parse_implementation_code
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation
from levels.node.referrals import encode_item, encode_town
from resolvers.cases import NodeAsk, act_on_case, display_name, node_ask, node_change
from resolvers.fanout import NodeUnavailable
from schema.cases import CasePayload
from schema.info import Info


async def refer(
    info: Info, number: str, opinion: str | None, expected_version: int | None
) -> CasePayload:
    """转报: send the case up its route — to the town that reviews first, or to the
    org that decides it — through the outbox (of the node holding the case: asked
    through its API when it has one, with the route the hub read)."""
    ctx = info.context
    now = ctx.clock.now()

    async def change(session: AsyncSession, actor: Actor) -> Case:
        row = await session.get(Case, number)
        assert row is not None  # act_on_case found it
        impl, review_town = await _route(info, row)
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

    async def at_node(row: Case) -> NodeAsk:
        impl, review_town = await _route(info, row)
        return node_ask(
            "referCase",
            number,
            now,
            StepInput(expected_version=expected_version),
            item=encode_item(impl),
            reviewTown=encode_town(review_town),
            opinion=opinion,
            reviewerName=await display_name(info),
        )

    return await act_on_case(info, number, Action.REFER_CASE, change, now=now, via_api=at_node)


async def _route(
    info: Info, row: Case
) -> tuple[MatterImplementation, tuple[str | None, str] | None]:
    """What a referral of ``row`` reads of other nodes: the item it is decided under
    and, when the town reviews first, that town's (org code, division code)."""
    impl = await _deciding_item(info, row)
    if row.level is not Level.VILLAGE or not referral.town_reviews_first(impl):
        return impl, None
    # the town is asked only when it is on the way; down, it is named on arrival
    town = f"{row.division_code[:9]}000"
    try:
        org = await info.context.loaders.service_org_by_division.load(town)
    except NodeUnavailable:
        return impl, (None, town)
    return impl, ((org.code, town) if org is not None else None)


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

    given = StepInput(expected_version=expected_version, materials=drafts)
    via_api = node_change("completeFile", number, now, given)
    return await act_on_case(info, number, Action.REFER_CASE, change, now=now, via_api=via_api)


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

    given = StepInput(expected_version=expected_version, missing=missing)
    via_api = node_change("notifyStation", number, now, given)
    return await act_on_case(info, number, Action.NOTIFY_STATION, change, now=now, via_api=via_api)


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

    given = StepInput(expected_version=expected_version, materials=drafts)
    via_api = node_change("supplementAtStation", number, now, given)
    return await act_on_case(
        info, number, Action.SUPPLEMENT_AT_STATION, change, now=now, via_api=via_api
    )
