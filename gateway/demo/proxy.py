"""The village proxy service (代办) of the demo city, at 修文村 (140702101201).

赵磊 (``resident4``) authorized the station in the app to apply for 最低生活保障审批 for
him (全程代办), and its agent ``agent.140702101201.1`` handed the application in on
2026-11-18: it is at the village, SUBMITTED, to be referred up. He also gave a written
authorization, recorded by the same agent, for 城乡居民养老保险参保登记 (即时办理), which
the agent completed on the spot on 2026-11-19; and authorized the station for 高龄津贴发放
(上门办理), still unused. Made with the hub's own service functions, so the rows, the
ledger and the audit chain are what the hub would have written; the authorizations'
ids are fixed, so the docs (docs/concepts/village-station.md) can name them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import Account
from gateway.demo.plan import org_code_for
from gateway.nodes import NodeRegistry
from levels.calendar.workdays import load_calendar
from levels.cases.enums import ApplicantKind, MaterialSource
from levels.cases.intake import Applicant, Receiver, Submission, submit_case
from levels.cases.machine import Step
from levels.cases.service import Actor, MaterialDraft, StepInput
from levels.cases.steps import take_step
from levels.city.models import Matter
from levels.common.clock import CHINA
from levels.common.codes import make_implementation_code, parse_division
from levels.common.enums import Level, VillageServiceMode
from levels.common.models import ImplementationMaterial
from levels.licences.keys import OrgSigner
from levels.licences.service import Issuing
from levels.proxy.models import AuthorizationMethod, ProxyAuthorization
from levels.proxy.service import AuthorizationDraft, Resident, grant

VILLAGE = parse_division("140702101201")  # 修文村
STATION = org_code_for(VILLAGE)
COUNTY_ORG = org_code_for(parse_division("140702000000"))  # 榆次区
RESIDENT = "resident4"  # 赵磊
AGENT = f"agent.{VILLAGE.code}.1"
SUBSISTENCE = make_implementation_code(COUNTY_ORG, Level.COUNTY, "000500100100")
PENSION = make_implementation_code(STATION, Level.VILLAGE, "002000300100")
PHONE = "13903541204"


def demo_authorization_id(n: int) -> str:
    """The fixed id of the demo's ``n``-th authorization (1, 2, 3)."""
    return uuid.uuid5(
        uuid.NAMESPACE_URL, f"https://govhub.example.cn/demo/proxy-authorization/{n}"
    ).hex


# the subsistence allowance (app), the pension (written), the old-age allowance (app)
SUBSISTENCE_AUTHORIZATION = demo_authorization_id(1)
PENSION_AUTHORIZATION = demo_authorization_id(2)
ALLOWANCE_AUTHORIZATION = demo_authorization_id(3)


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA)


def _actor(account: Account, channel: str) -> Actor:
    return Actor(id=account.id, kind=account.kind.value, channel=channel)


async def _guide(session: AsyncSession, code: str) -> Sequence[str]:
    return (
        await session.scalars(
            select(ImplementationMaterial.name)
            .where(ImplementationMaterial.implementation_code == code)
            .order_by(ImplementationMaterial.position)
        )
    ).all()


async def load_demo_proxy(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        accounts = {
            a.username: a
            for a in await session.scalars(
                select(Account).where(Account.username.in_([RESIDENT, AGENT]))
            )
        }
    resident, agent = accounts[RESIDENT], accounts[AGENT]
    who = Resident(resident.id, resident.display_name, resident.id_number_masked or "")
    applicant = Applicant(ApplicantKind.PERSON, who.id, who.name, who.id_masked)
    async with nodes.single(Level.CITY).sessions() as city:
        matters = {
            m.basic_code: m
            for m in await city.scalars(
                select(Matter).where(Matter.basic_code.in_(["000500100100", "002000300100"]))
            )
        }
    async with (
        nodes.owner(COUNTY_ORG[2:8] + "000000").sessions() as county,
        nodes.owner(VILLAGE).sessions() as session,
        session.begin(),
    ):
        calendar = await load_calendar(session=session)

        async def authorize(
            n: int,
            basic_code: str,
            scope: str,
            mode: VillageServiceMode,
            method: AuthorizationMethod,
            at: dt.datetime,
            expires_on: dt.date,
        ) -> ProxyAuthorization:
            by_agent = method is not AuthorizationMethod.MOBILE
            draft = AuthorizationDraft(
                VILLAGE.code,
                who,
                basic_code,
                scope,
                mode,
                method,
                expires_on,
                PHONE,
                agent_id=agent.id if by_agent else "",
            )
            actor = _actor(agent, "COUNTER") if by_agent else _actor(resident, "MOBILE")
            return await grant(
                draft,
                session=session,
                actor=actor,
                now=at,
                authorization_id=demo_authorization_id(n),
            )

        subsistence = await authorize(
            1,
            "000500100100",
            "代为提交最低生活保障申请材料并领取审批结果",
            VillageServiceMode.FULL_PROXY,
            AuthorizationMethod.MOBILE,
            _at(11, 16, 10),
            dt.date(2027, 5, 31),
        )
        pension = await authorize(
            2,
            "002000300100",
            "代为办理城乡居民养老保险参保登记",
            VillageServiceMode.IMMEDIATE,
            AuthorizationMethod.WRITTEN,
            _at(11, 19, 9),
            dt.date(2026, 12, 31),
        )
        await authorize(
            3,
            "000500100400",
            "上门收取高龄津贴申请材料并代为提交",
            VillageServiceMode.HOME_VISIT,
            AuthorizationMethod.MOBILE,
            _at(11, 17, 20),
            dt.date(2027, 11, 16),
        )
        matter = matters["000500100100"]
        await submit_case(
            Submission(
                implementation_code=SUBSISTENCE,
                matter_name=matter.name,
                legal_limit_days=matter.legal_time_limit_days,
                applicant=applicant,
                channel="PROXY",
                materials=[
                    MaterialDraft(name, MaterialSource.PAPER)
                    for name in await _guide(county, SUBSISTENCE)
                ],
                received_by=Receiver(Level.VILLAGE, STATION, VILLAGE.code),
                proxy_authorization_id=subsistence.id,
                applicant_phone=subsistence.phone,
            ),
            session=session,
            actor=_actor(agent, "COUNTER"),
            now=_at(11, 18, 9, 30),
            calendar=calendar,
            catalogue=county,
        )
        matter = matters["002000300100"]
        case = await submit_case(
            Submission(
                implementation_code=PENSION,
                matter_name=matter.name,
                legal_limit_days=matter.legal_time_limit_days,
                applicant=applicant,
                channel="PROXY",
                materials=[
                    MaterialDraft(name, MaterialSource.PAPER)
                    for name in await _guide(session, PENSION)
                ],
                proxy_authorization_id=pension.id,
                applicant_phone=pension.phone,
            ),
            session=session,
            actor=_actor(agent, "COUNTER"),
            now=_at(11, 19, 9, 10),
            calendar=calendar,
        )
        await take_step(
            case.number,
            Step.COMPLETE,
            StepInput(),
            session=session,
            actor=_actor(agent, "COUNTER"),
            now=_at(11, 19, 9, 20),
            calendar=calendar,
            # 参保登记 issues no licence; the signer is there should it ever
            issuing=Issuing(OrgSigner(secret)),
        )
    return {"proxy_authorizations": 3, "proxy_cases": 2}
