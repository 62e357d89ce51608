"""Resolvers of the village station's service modes: the applicant's age an agent's
submission records with its mode, accompaniment and fee (recorded in the submission's
transaction, ``levels/node/proxy.py``), and home visits. Thin: parse, check the policy
table, call ``levels/village``."""

from __future__ import annotations

from typing import Any

from stdnum.cn import ric

from auth.idnumbers import parse_id_number
from auth.policy import Action, require
from levels.cases.models import Case
from levels.cases.service import china_date
from levels.common.codes import level_of_division
from levels.common.enums import Level
from levels.common.errors import DomainError
from levels.proxy import service as proxy_service
from levels.village import services as village_services
from levels.village.errors import VillageErrorCode
from levels.village.services import VisitDraft
from resolvers.cases import actor_of
from schema.info import Info
from schema.payloads import user_errors
from schema.proxy import ledger_target
from schema.village import HomeVisitPayload, HomeVisitType


def age_of(info: Info, id_number: str | None) -> int | None:
    """The applicant's age today, from the ID number the agent gave (checked against
    the authorization's resident in the submission's transaction); None when none was
    given."""
    if not id_number:
        return None
    number = parse_id_number(id_number, field=("input", "applicantIdNumber"))
    return village_services.age_on(ric.get_birth_date(number), china_date(info.context.clock.now()))


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
