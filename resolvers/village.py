"""Resolvers of the village station's service modes: what an agent's submission
records about its mode, accompaniment and fee (called in the submission's
transaction, ``resolvers/proxy.py``), and home visits. Thin: parse, check the policy
table, call ``levels/village``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from auth.idnumbers import parse_id_number
from auth.policy import Action, require
from levels.cases.models import Case
from levels.cases.service import china_date
from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.common.routes import Route
from levels.licences.service import held_licences
from levels.proxy import service as proxy_service
from levels.proxy.errors import ProxyErrorCode
from levels.proxy.models import ProxyAuthorization
from levels.village import services as village_services
from levels.village.errors import VillageErrorCode
from levels.village.services import Eligibility, ServiceDraft, VisitDraft
from resolvers.cases import actor_of
from schema.info import Info
from schema.payloads import user_errors
from schema.proxy import ledger_target
from schema.village import HomeVisitPayload, HomeVisitType

# the e-licence type of the 残疾人证 in the library
DISABILITY_LICENCE_TYPE = "CJRZ"
_FEE_FIELD = ["input", "villageService", "feeYuan"]


def _fee_fen(value: Decimal | None) -> int:
    if value is None:
        return 0
    try:
        fen = value * 100
        if fen != fen.to_integral_value() or not value.is_finite():
            raise DomainError(VillageErrorCode.INVALID_FEE, field=_FEE_FIELD)
        return int(fen)
    except InvalidOperation:
        raise DomainError(VillageErrorCode.INVALID_FEE, field=_FEE_FIELD) from None


def _age(info: Info, id_number: str | None) -> int | None:
    """The applicant's age today, from the ID number the agent gave (checked against
    the authorization's resident before this runs); None when none was given."""
    if not id_number:
        return None
    number = parse_id_number(id_number, field=("input", "applicantIdNumber"))
    return village_services.age_on(ric.get_birth_date(number), china_date(info.context.clock.now()))


async def record_case_service(
    info: Info,
    input: Any,
    granted: ProxyAuthorization,
    route: Route,
    case: Case,
    session: AsyncSession,
    library: AsyncSession,
) -> None:
    """In the village store's transaction of an agent's submission: the mode the case
    is handled in (the authorization's unless another offered one is given), who
    accompanied, and the fee — free, with the reason, for a resident who holds a valid
    残疾人证 in the library or is at or over the stated age."""
    given = input.village_service
    mode = given.mode if given is not None and given.mode is not None else granted.mode
    if mode not in route.village_modes:
        raise DomainError(
            ProxyErrorCode.MODE_NOT_OFFERED,
            field=["input", "villageService", "mode"],
            detail=", ".join(m.value for m in route.village_modes),
        )
    now = info.context.clock.now()
    held = await held_licences(
        library, [granted.resident_id], [DISABILITY_LICENCE_TYPE], china_date(now)
    )
    card = held.get(DISABILITY_LICENCE_TYPE)
    who = Eligibility(
        disability_licence_id=card.id if card is not None else None,
        age=_age(info, input.applicant_id_number),
        free_age=info.context.settings.proxy_free_age,
    )
    draft = ServiceDraft(
        mode=mode,
        accompanied_by=given.accompanied_by if given is not None else None,
        fee_fen=_fee_fen(given.fee_yuan if given is not None else None),
    )
    await village_services.record_service(
        case, draft, who, session=session, actor=actor_of(info), now=now
    )


async def record_home_visit(info: Info, input: Any) -> HomeVisitPayload:
    """上门办理: an agent of the village that received the case records a visit."""
    ctx = info.context
    number = input.case_number.strip()
    village_code = number[:12]
    try:
        if len(number) > 27 or level_of_division(village_code) is not Level.VILLAGE:
            raise DomainError(VillageErrorCode.CASE_NOT_FOUND, field=["input", "caseNumber"])
        require(ctx.viewer, Action.RECORD_VISIT, ledger_target(village_code))
        draft = VisitDraft(number, input.visited_on, input.staff, input.place, input.note)
        async with ctx.nodes.owner(village_code).sessions.begin() as session:
            case = await session.get(Case, number)
            granted = None
            if case is not None and case.proxy_authorization_id is not None:
                granted = await proxy_service.find(case.proxy_authorization_id, session=session)
            row = await village_services.record_visit(
                draft,
                village_code=village_code,
                authorized_on=china_date(granted.granted_at) if granted is not None else None,
                session=session,
                actor=actor_of(info),
                now=ctx.clock.now(),
            )
    except DomainError as e:
        return HomeVisitPayload(errors=user_errors(e, ctx.locale))
    return HomeVisitPayload(visit=HomeVisitType.from_row(row))
