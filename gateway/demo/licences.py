"""E-licences (电子证照) of the demo city, beyond those its sample cases issue.

Made the way real ones are — cases submitted and approved with ``levels.cases.service``
(出证 in the approving transaction, signed with the issuing org's key), lifecycle
changes with ``levels.licences.service.change_status`` by the org's director — and
carried to the city's licence library by the message worker (signed envelopes on the
in-process bus), each message a minute after it was sent, as a worker running all
along would have:

* 张明 (``resident1``) registers as an individual business (个体工商户登记) at 修文镇,
  which the county delegated to its towns: a VALID 营业执照 signed by the town. When he
  later applies at 榆次区 for a food business licence (食品经营许可), its 营业执照
  material is filled from the library (电子证照库调取), never asked for.
* 王芳 (``resident3``) registered at 修文镇 in June; her 营业执照 is REVOKED: the
  premises certificate she gave was false.
* 修文镇兴农农机专业合作社 (``firm3``) holds a 农药经营许可证 of 榆次区, SUSPENDED
  while a failed sample is investigated.
* 晋中市汇通商贸有限公司 (``firm1``) holds a 药品经营许可证 of the city itself (its
  own library copy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.demo.cases import approves
from gateway.demo.plan import CITY_CODE, org_code_for
from gateway.messaging.factory import carry_once, embedded_messenger
from gateway.nodes import NodeRegistry
from levels.calendar.workdays import load_calendar
from levels.cases.enums import ApplicantKind, Decision, MaterialSource
from levels.cases.intake import Applicant, Submission, submit_case
from levels.cases.machine import Step
from levels.cases.service import MaterialDraft, StepInput
from levels.cases.steps import take_step
from levels.city.models import Matter
from levels.common.clock import CHINA, FixedClock
from levels.common.codes import DivisionCode, make_implementation_code, parse_division
from levels.common.enums import DeliveryMethod, Level
from levels.common.models import ImplementationMaterial
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.service import Issuing, change_status
from levels.outbox.models import MessageState, OutboxMessage

CITY = parse_division(CITY_CODE)  # 晋中市
YUCI = parse_division("140702000000")  # 榆次区
XIUWEN = parse_division("140702101000")  # 修文镇
INDIVIDUAL_BUSINESS = "000100200200"  # 个体工商户登记 (delegated to the towns)
FOOD_BUSINESS = "000100200100"  # 食品经营许可
PESTICIDE_BUSINESS = "000100500200"  # 农药经营许可
DRUG_RETAIL = "000100200400"  # 药品零售许可
# a worker running all along delivers each message this long after it was sent
RELAY_LAG = dt.timedelta(minutes=1)


def implementation(division: DivisionCode, basic_code: str) -> str:
    return make_implementation_code(org_code_for(division), division.level, basic_code)


def _at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA)


@dataclass(frozen=True)
class LicenceCase:
    """One case of an item that issues a licence, and what becomes of the licence."""

    division: DivisionCode  # of the implementing org
    basic_code: str
    applicant: str  # username
    received: dt.datetime
    # each step: when, and by whom (username)
    steps: Sequence[tuple[Step, dt.datetime, str, StepInput]]
    channel: str = "COUNTER"
    licence: Mapping[str, str] = field(default_factory=dict)
    # materials an e-licence replaces are left out: the library fills them
    from_library: bool = False
    # a lifecycle change of its licence: action, when, by whom, why
    change: tuple[str, dt.datetime, str, str] | None = None


# the licences the library holds before 张明 applies for his food business licence
ISSUED: tuple[LicenceCase, ...] = (
    LicenceCase(
        XIUWEN,
        INDIVIDUAL_BUSINESS,
        "resident3",
        _at(6, 15, 9),
        [(Step.COMPLETE, _at(6, 15, 9, 40), "xiuwen.receptionist", StepInput())],
        licence={"scope": "服装鞋帽零售", "address": "晋中市榆次区修文镇新建街6号"},
        change=(
            "REVOKE_LICENCE",
            _at(11, 9, 15),
            "xiuwen.director",
            "经核查，登记时提交的经营场所使用证明系伪造，依法撤销登记（修市监撤字〔2026〕3号）",
        ),
    ),
    LicenceCase(
        YUCI,
        PESTICIDE_BUSINESS,
        "firm3",
        _at(10, 12, 9, 30),
        [
            (Step.ACCEPT, _at(10, 12, 11), "yuci.receptionist", StepInput()),
            (Step.START_REVIEW, _at(10, 13, 10), "yuci.reviewer", StepInput()),
            (
                Step.DECIDE,
                _at(10, 22, 15),
                "yuci.ny.director",
                StepInput(decision=Decision.APPROVED),
            ),
            (
                Step.DELIVER,
                _at(10, 23, 10),
                "yuci.output",
                StepInput(delivery_method=DeliveryMethod.PICKUP, delivery_reference="QJ-1023"),
            ),
        ],
        channel="WEB",
        licence={"address": "晋中市榆次区修文镇兴农路8号"},
        change=(
            "SUSPEND_LICENCE",
            _at(11, 16, 16),
            "yuci.director",
            "抽检发现所售农药有效成分含量不合格，立案调查期间暂扣许可证（榆农（农药）立〔2026〕7号）",
        ),
    ),
    LicenceCase(
        CITY,
        DRUG_RETAIL,
        "firm1",
        _at(10, 26, 9),
        [
            (Step.ACCEPT, _at(10, 26, 10), "jz.receptionist", StepInput()),
            (Step.START_REVIEW, _at(10, 27, 9), "jz.reviewer", StepInput()),
            (Step.DECIDE, _at(11, 6, 16), "jz.director", StepInput(decision=Decision.APPROVED)),
            (
                Step.DELIVER,
                _at(11, 9, 9),
                "jz.output",
                StepInput(delivery_method=DeliveryMethod.ELECTRONIC),
            ),
        ],
        channel="WEB",
        licence={
            "scope": "处方药、非处方药（化学药制剂、中成药、中药饮片）",
            "address": "晋中市榆次区迎宾街168号",
        },
    ),
    LicenceCase(
        XIUWEN,
        INDIVIDUAL_BUSINESS,
        "resident1",
        _at(11, 2, 9),
        [(Step.COMPLETE, _at(11, 2, 9, 30), "xiuwen.receptionist", StepInput())],
        licence={
            "scope": "预包装食品、日用百货零售",
            "address": "晋中市榆次区修文镇修文村东街12号",
        },
    ),
)
# 张明's food business licence application: its 营业执照 comes from the library
FROM_LIBRARY = LicenceCase(
    YUCI,
    FOOD_BUSINESS,
    "resident1",
    _at(11, 19, 10, 30),
    [(Step.ACCEPT, _at(11, 19, 11), "yuci.scj.receptionist", StepInput())],
    channel="MOBILE",
    from_library=True,
)
# the users the demo cases here name
USERS = {
    name
    for c in (*ISSUED, FROM_LIBRARY)
    for name in (c.applicant, *(s[2] for s in c.steps), *([c.change[2]] if c.change else []))
}


def _applicant(account: Account) -> Applicant:
    if account.credit_code:
        return Applicant(
            ApplicantKind.ENTERPRISE, account.id, account.display_name, account.credit_code
        )
    return Applicant(
        ApplicantKind.PERSON, account.id, account.display_name, account.id_number_masked or ""
    )


async def _make(
    nodes: NodeRegistry,
    spec: LicenceCase,
    n: int,
    accounts: Mapping[str, Account],
    matters: Mapping[str, Matter],
    signer: OrgSigner,
) -> None:
    """One case, its steps, and the change of its licence (each its own transaction)."""
    node = nodes.owner(spec.division)
    code = implementation(spec.division, spec.basic_code)
    matter = matters[spec.basic_code]
    applicant = accounts[spec.applicant]
    async with nodes.single(Level.CITY).sessions() as library, node.sessions() as session:
        async with session.begin():
            calendar = await load_calendar(session=session)
            guide = (
                await session.scalars(
                    select(ImplementationMaterial)
                    .where(ImplementationMaterial.implementation_code == code)
                    .order_by(ImplementationMaterial.position)
                )
            ).all()
            given = [
                MaterialDraft(g.name, MaterialSource.FILE, f"demo-licence-{n}-{g.position}")
                for g in guide
                if not (spec.from_library and g.satisfied_by_licence_type)
            ]
            case = await submit_case(
                Submission(
                    implementation_code=code,
                    matter_name=matter.name,
                    legal_limit_days=matter.legal_time_limit_days,
                    applicant=_applicant(applicant),
                    channel=spec.channel,
                    materials=given,
                ),
                session=session,
                actor=demo_actor(applicant, spec.channel),
                now=spec.received,
                calendar=calendar,
                library=library if spec.from_library else None,
            )
            for step, at, username, step_input in spec.steps:
                await take_step(
                    case.number,
                    step,
                    step_input,
                    session=session,
                    actor=demo_actor(accounts[username], "COUNTER"),
                    now=at,
                    calendar=calendar,
                    issuing=Issuing(signer, spec.licence) if approves(step, step_input) else None,
                )
            number = case.number
        if spec.change is not None:
            action, at, username, reason = spec.change
            async with session.begin():
                licence = await session.scalar(
                    select(ELicence.id).where(ELicence.source_case_number == number)
                )
                assert licence is not None, number
                who = demo_actor(accounts[username], "COUNTER")
                await change_status(session, licence, action, reason, who, at)


async def load_demo_licences(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    async with nodes.identity.sessions() as session:
        accounts = {
            a.username: a
            for a in await session.scalars(select(Account).where(Account.username.in_(USERS)))
        }
    async with nodes.single(Level.CITY).sessions() as city:
        matters = {m.basic_code: m for m in await city.scalars(select(Matter))}
    signer = OrgSigner(secret)
    for n, spec in enumerate(ISSUED, 1):
        await _make(nodes, spec, n, accounts, matters, signer)
    # the library learns of them before 张明 applies
    await relay_pending(nodes, secret=secret)
    await _make(nodes, FROM_LIBRARY, len(ISSUED) + 1, accounts, matters, signer)
    return {"licence_cases": len(ISSUED) + 1}


async def _next_due(session: AsyncSession) -> dt.datetime | None:
    due: dt.datetime | None = await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == MessageState.PENDING
        )
    )
    return due


async def relay_pending(nodes: NodeRegistry, *, secret: bytes) -> int:
    """Deliver every pending cross-level message (licences to the library, their uses),
    each ``RELAY_LAG`` after it was due, signed with the nodes' keys (``secret`` opens
    them). Refuses to leave one behind: a message that cannot be delivered is a bug in
    the demo."""
    passes = 0
    while True:
        found = []
        for node in nodes:
            async with node.sessions() as session:
                found.append(await _next_due(session))
        due = [d for d in found if d is not None]
        if not due:
            break
        clock = FixedClock(min(due) + RELAY_LAG)
        done = await carry_once(embedded_messenger(nodes, clock, secret))
        passes += 1
        if not done.moved or done.failed or done.refused or done.retrying or done.down:
            raise RuntimeError(f"the demo's messages are stuck: {done}")
    for node in nodes:
        async with node.sessions() as session:
            left = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.state != MessageState.ACKNOWLEDGED)
            )
        if left:
            raise RuntimeError(f"{left} demo messages of node {node.id} not delivered")
    return passes
