"""Sample cases of the demo city, in every state, some yellow and some red.

They are made the way real ones are — ``levels.cases.service`` steps taken by the demo
staff at the times given here — so their clocks, timelines and audit chains are what
the hub itself would have written. The demo's "now" is 2026-11-20 (a Friday).
Approving a case of an item that issues an e-licence issues it, signed with the org's
key: 张明's 最低生活保障证, and the 残疾人证 of the delivered and the archived case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import Account
from gateway.demo.accounts import demo_actor
from gateway.nodes import NodeRegistry
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.enums import ApplicantKind, Decision, MaterialSource, RejectionReason
from levels.cases.intake import Applicant, PartDraft, Submission, submit_case
from levels.cases.machine import Step
from levels.cases.service import SYSTEM, MaterialDraft, StepInput, decide_part
from levels.cases.steps import take_step
from levels.city.models import Matter
from levels.common.clock import CHINA
from levels.common.enums import DeliveryMethod, Level, SpecialProcedureKind
from levels.common.models import ImplementationMaterial
from levels.licences.keys import OrgSigner
from levels.licences.service import Issuing

YUCI_ORG = "12140702MB00000006"
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # promised 10 working days
SUBSISTENCE = f"{YUCI_ORG}2000500100100"  # 最低生活保障, promised 15
BIRTH = f"{YUCI_ORG}2000700800200"  # immediate
FOOD_BUSINESS = f"{YUCI_ORG}2000100200100"  # 食品经营许可, 市场监督管理局, promised 5
PESTICIDE_BUSINESS = f"{YUCI_ORG}2000100500200"  # 农药经营许可, 农业农村局, promised 10


@dataclass(frozen=True)
class Plan:
    implementation: str
    received: dt.date
    steps: Sequence[tuple[Step, dt.date, StepInput]]
    missing_last: bool = False
    # what the director fills in on the e-licence an approval issues (出证)
    licence: Mapping[str, str] = field(default_factory=dict)


def approves(step: Step, given: StepInput) -> bool:
    """Whether the step may approve the case, and so issue its e-licences."""
    return step is Step.COMPLETE or (step is Step.DECIDE and given.decision is Decision.APPROVED)


def _d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


_PLANS: list[Plan] = [
    Plan(DISABILITY_CARD, _d(11, 19), []),  # SUBMITTED
    Plan(
        DISABILITY_CARD,
        _d(11, 18),
        [(Step.NOTIFY_SUPPLEMENT, _d(11, 18), StepInput())],
        missing_last=True,
    ),  # AWAITING_SUPPLEMENT
    Plan(DISABILITY_CARD, _d(11, 17), [(Step.ACCEPT, _d(11, 17), StepInput())]),  # GREEN
    Plan(
        DISABILITY_CARD,
        _d(11, 6),
        [(Step.ACCEPT, _d(11, 6), StepInput()), (Step.START_REVIEW, _d(11, 9), StepInput())],
    ),  # YELLOW: most of the ten days used
    Plan(
        DISABILITY_CARD,
        _d(10, 26),
        [(Step.ACCEPT, _d(10, 26), StepInput()), (Step.START_REVIEW, _d(10, 27), StepInput())],
    ),  # RED: overdue
    Plan(
        DISABILITY_CARD,
        _d(11, 10),
        [
            (Step.ACCEPT, _d(11, 10), StepInput()),
            (Step.START_REVIEW, _d(11, 11), StepInput()),
            (
                Step.START_SPECIAL,
                _d(11, 16),
                StepInput(procedure=SpecialProcedureKind.APPRAISAL),
            ),
        ],
    ),  # SPECIAL_PROCEDURE
    Plan(
        SUBSISTENCE,
        _d(10, 20),
        [
            (Step.ACCEPT, _d(10, 20), StepInput()),
            (Step.START_REVIEW, _d(10, 21), StepInput()),
            (Step.DECIDE, _d(11, 5), StepInput(decision=Decision.APPROVED)),
        ],
        licence={"members": "2", "monthlyYuan": "1160"},
    ),  # APPROVED: 最低生活保障证
    Plan(
        SUBSISTENCE,
        _d(10, 21),
        [
            (Step.ACCEPT, _d(10, 21), StepInput()),
            (Step.START_REVIEW, _d(10, 22), StepInput()),
            (
                Step.DECIDE,
                _d(11, 6),
                StepInput(decision=Decision.DENIED, reasons="家庭人均收入高于当地低保标准"),
            ),
        ],
    ),  # DENIED
    Plan(
        DISABILITY_CARD,
        _d(10, 12),
        [
            (Step.ACCEPT, _d(10, 12), StepInput()),
            (Step.START_REVIEW, _d(10, 13), StepInput()),
            (Step.DECIDE, _d(10, 20), StepInput(decision=Decision.APPROVED)),
            (
                Step.DELIVER,
                _d(10, 21),
                StepInput(delivery_method=DeliveryMethod.MAIL, delivery_reference="EMS1107"),
            ),
        ],
        licence={"category": "肢体", "grade": "三级"},
    ),  # DELIVERED: 残疾人证
    Plan(
        DISABILITY_CARD,
        _d(9, 15),
        [
            (Step.ACCEPT, _d(9, 15), StepInput()),
            (Step.START_REVIEW, _d(9, 16), StepInput()),
            (Step.DECIDE, _d(9, 24), StepInput(decision=Decision.APPROVED)),
            (
                Step.DELIVER,
                _d(9, 25),
                StepInput(delivery_method=DeliveryMethod.PICKUP, delivery_reference="QJ-0925"),
            ),
            (Step.ARCHIVE, _d(9, 25), StepInput()),
        ],
        licence={"category": "听力", "grade": "二级"},
    ),  # ARCHIVED: 残疾人证
    Plan(BIRTH, _d(11, 13), [(Step.COMPLETE, _d(11, 13), StepInput())]),  # COMPLETED
    Plan(
        DISABILITY_CARD,
        _d(11, 12),
        [
            (
                Step.PROPOSE_REJECTION,
                _d(11, 12),
                StepInput(
                    rejection_reason=RejectionReason.NOT_OUR_JURISDICTION,
                    authority="太谷区残疾人联合会",
                ),
            ),
            # 窗口无否决权: the department head approves what the window proposed
            (Step.REJECT, _d(11, 12), StepInput()),
        ],
    ),  # REJECTED
    Plan(DISABILITY_CARD, _d(11, 11), [(Step.WITHDRAW, _d(11, 12), StepInput())]),  # WITHDRAWN
    Plan(
        DISABILITY_CARD,
        _d(10, 27),
        [
            (Step.NOTIFY_SUPPLEMENT, _d(10, 27), StepInput(supplement_days=3)),
            (Step.CLOSE_UNSUPPLEMENTED, _d(11, 2), StepInput()),
        ],
        missing_last=True,
    ),  # CLOSED_UNSUPPLEMENTED
]

_POSTS = {
    Step.NOTIFY_SUPPLEMENT: "yuci.receptionist",
    Step.ACCEPT: "yuci.receptionist",
    Step.PROPOSE_REJECTION: "yuci.receptionist",
    Step.REJECT: "yuci.director",
    Step.COMPLETE: "yuci.receptionist",
    Step.START_REVIEW: "yuci.reviewer",
    Step.START_SPECIAL: "yuci.reviewer",
    Step.DECIDE: "yuci.director",
    Step.DELIVER: "yuci.output",
    Step.ARCHIVE: "yuci.output",
}
# the joint case (联办) of a farm-supply shop: 食品经营许可 leads, 农药经营许可 joins;
# its departments' own staff take it up and decide their parts
_JOINT_POSTS = {Step.ACCEPT: "yuci.scj.receptionist", Step.START_REVIEW: "yuci.reviewer"}
_JOINT_PART_DIRECTOR = "yuci.ny.director"


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHINA)


async def load_demo_cases(nodes: NodeRegistry, *, secret: bytes) -> dict[str, int]:
    signer = OrgSigner(secret)
    async with nodes.identity.sessions() as session:
        names = [
            *set(_POSTS.values()),
            *_JOINT_POSTS.values(),
            _JOINT_PART_DIRECTOR,
            "resident1",
            "resident2",
            "firm2",
        ]
        accounts = {
            a.username: a
            for a in await session.scalars(select(Account).where(Account.username.in_(names)))
        }
    node = nodes.owner(YUCI_ORG[2:8] + "000000")
    count = 0
    async with nodes.single(Level.CITY).sessions() as city:
        matters = {m.basic_code: m for m in await city.scalars(select(Matter))}
    async with node.sessions() as session, session.begin():
        calendar = await load_calendar(session=session)
        for i, plan in enumerate(_PLANS):
            resident = accounts["resident1" if i % 2 == 0 else "resident2"]
            guide = (
                await session.scalars(
                    select(ImplementationMaterial.name)
                    .where(ImplementationMaterial.implementation_code == plan.implementation)
                    .order_by(ImplementationMaterial.position)
                )
            ).all()
            given = guide[:-1] if plan.missing_last else guide
            matter = matters[plan.implementation[19:]]
            case = await submit_case(
                Submission(
                    implementation_code=plan.implementation,
                    matter_name=matter.name,
                    legal_limit_days=matter.legal_time_limit_days,
                    applicant=Applicant(
                        ApplicantKind.PERSON,
                        resident.id,
                        resident.display_name,
                        resident.id_number_masked or "",
                    ),
                    channel="MOBILE" if i % 3 else "COUNTER",
                    materials=[
                        MaterialDraft(name, MaterialSource.FILE, f"demo-file-{i}-{n}")
                        for n, name in enumerate(given)
                    ],
                ),
                session=session,
                actor=demo_actor(resident, "MOBILE"),
                now=_at(plan.received, 9),
                calendar=calendar,
            )
            for hour, (step, day, step_input) in enumerate(plan.steps, start=10):
                post = _POSTS.get(step)
                actor = (
                    demo_actor(accounts[post], "COUNTER")
                    if post
                    else demo_actor(resident, "MOBILE")
                    if step is Step.WITHDRAW
                    else SYSTEM
                )
                await take_step(
                    case.number,
                    step,
                    step_input,
                    session=session,
                    actor=actor,
                    now=_at(day, hour),
                    calendar=calendar,
                    issuing=Issuing(signer, plan.licence) if approves(step, step_input) else None,
                )
            count += 1
        await _joint_case(session, accounts, matters, calendar)
        count += 1
    return {"cases": count}


async def _joint_case(
    session: AsyncSession,
    accounts: dict[str, Account],
    matters: dict[str, Matter],
    calendar: WorkCalendar,
) -> None:
    """榆次区德顺食品店, by its legal representative 李华, applies online for a food
    and a pesticide business licence at once; the pesticide part is approved, the food
    part (the lead) is still under review."""
    firm, person = accounts["firm2"], accounts["resident2"]
    food, pesticide = matters[FOOD_BUSINESS[19:]], matters[PESTICIDE_BUSINESS[19:]]
    guide = (
        await session.scalars(
            select(ImplementationMaterial.name)
            .where(
                ImplementationMaterial.implementation_code.in_([FOOD_BUSINESS, PESTICIDE_BUSINESS])
            )
            .distinct()
        )
    ).all()
    case = await submit_case(
        Submission(
            implementation_code=FOOD_BUSINESS,
            matter_name=food.name,
            legal_limit_days=food.legal_time_limit_days,
            applicant=Applicant(
                ApplicantKind.ENTERPRISE, firm.id, firm.display_name, firm.credit_code or ""
            ),
            channel="WEB",
            materials=[
                MaterialDraft(name, MaterialSource.FILE, f"demo-joint-{n}")
                for n, name in enumerate(sorted(guide))
            ],
            joint=[PartDraft(PESTICIDE_BUSINESS, pesticide.name, pesticide.legal_time_limit_days)],
        ),
        session=session,
        actor=demo_actor(person, "WEB"),
        now=_at(_d(11, 16), 9),
        calendar=calendar,
    )
    for hour, (step, username) in enumerate(_JOINT_POSTS.items(), start=10):
        await take_step(
            case.number,
            step,
            StepInput(),
            session=session,
            actor=demo_actor(accounts[username], "COUNTER"),
            now=_at(_d(11, 16), hour),
            calendar=calendar,
        )
    await decide_part(
        case.number,
        PESTICIDE_BUSINESS,
        StepInput(decision=Decision.APPROVED),
        session=session,
        actor=demo_actor(accounts[_JOINT_PART_DIRECTOR], "COUNTER"),
        now=_at(_d(11, 18), 15),
    )
