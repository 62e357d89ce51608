"""The referral journey of the fault rounds: a case received at 修文镇's centre (its own
node) and referred (转报) up to 榆次区, which decides it (the county node) — and, every
other round, withdrawn by its applicant while it is on its way, so that the
withdrawal must apply after the referral it follows.

Written into the stores with the levels' own functions, as the hub's resolvers call
them: received at the town (``levels/cases/intake.py``, the county's catalogue read
from its own store), its preliminary opinion given and referred
(``levels/cases/referral.py``), withdrawn (``levels/cases/withdrawal.py``). Checked at
the county: the case held once (one RECEIVE_REFERRAL in its trail), its steps in order
and its status what they make it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from auth.models import Account
from levels.audit.models import AuditEvent
from levels.calendar.workdays import load_calendar
from levels.cases.enums import ApplicantKind, CaseStatus, MaterialSource
from levels.cases.intake import Applicant, Receiver, Submission, submit_case
from levels.cases.materials import MaterialDraft
from levels.cases.models import Case
from levels.cases.referral import RECEIVE_ACTION, refer_case
from levels.cases.service import Actor, StepInput
from levels.cases.withdrawal import withdraw
from levels.city.models import Matter
from levels.common.enums import Level
from levels.common.models import ImplementationMaterial, MatterImplementation
from tests.faults.harness import CITY, COUNTY, TOWN, Cluster, Figures
from tests.gateway.test_message_order import XIUWEN, XIUWEN_ORG, YUCI_ORG

FARM_MACHINERY = f"{YUCI_ORG}2000500500100"  # 农机购置补贴: received at a town, decided by 榆次区
WITHDRAW_ACTION = "WITHDRAW"
RECEPTIONIST = Actor(
    id="xiuwen.receptionist", kind="STAFF", role="RECEPTIONIST", channel="WEB", org_code=XIUWEN_ORG
)
REVIEWER = Actor(
    id="xiuwen.reviewer", kind="STAFF", role="REVIEWER", channel="WEB", org_code=XIUWEN_ORG
)
OPINION = "经核实，购机发票与机具铭牌一致，同意上报"


@dataclass(frozen=True)
class Referred:
    """A case of the round referred from 修文镇 to 榆次区, and whether it was withdrawn."""

    number: str
    withdrawn: bool


async def _applicant(cluster: Cluster) -> tuple[Applicant, Actor]:
    """resident3 of 修文镇, as the counter finds them, and as they act themselves."""
    assert cluster.nodes is not None
    async with cluster.nodes.identity.sessions() as session:
        account = await session.scalar(select(Account).where(Account.username == "resident3"))
    assert account is not None and account.id_number_masked
    who = Applicant(
        ApplicantKind.PERSON, account.id, account.display_name, account.id_number_masked
    )
    return who, Actor(id=account.id, kind="PERSON", channel="MOBILE")


async def refer_up(cluster: Cluster, withdrawn: bool) -> Referred:
    """修文镇's centre receives a 农机购置补贴 application, gives its opinion and refers
    it to 榆次区; if ``withdrawn`` its applicant then withdraws it, still on its way."""
    assert cluster.nodes is not None
    nodes = cluster.nodes
    impl_code = FARM_MACHINERY
    async with nodes[CITY].sessions() as session:
        matter = await session.get(Matter, impl_code[-12:])  # the city's list: its name, limit
    assert matter is not None
    who, applicant = await _applicant(cluster)
    now = cluster.now()
    async with nodes[COUNTY].sessions() as catalogue:
        impl = await catalogue.get(MatterImplementation, impl_code)
        guide = (
            await catalogue.scalars(
                select(ImplementationMaterial.name).where(
                    ImplementationMaterial.implementation_code == impl_code
                )
            )
        ).all()
        assert impl is not None
        catalogue.expunge(impl)
        async with nodes[TOWN].sessions.begin() as session:
            case = await submit_case(
                Submission(
                    implementation_code=impl_code,
                    matter_name=matter.name,
                    legal_limit_days=matter.legal_time_limit_days,
                    applicant=who,
                    channel="COUNTER",
                    materials=[MaterialDraft(name, MaterialSource.PAPER) for name in guide],
                    received_by=Receiver(Level.TOWN, XIUWEN_ORG, XIUWEN),
                ),
                session=session,
                actor=RECEPTIONIST,
                now=now,
                calendar=await load_calendar(session=session),
                catalogue=catalogue,
            )
            number = case.number
    async with nodes[TOWN].sessions.begin() as session:
        await refer_case(
            number,
            opinion=OPINION,
            reviewer_name="修文镇便民服务中心审核人",
            expected_version=None,
            impl=impl,
            review_town=None,
            session=session,
            actor=REVIEWER,
            now=cluster.now(),
        )
    if withdrawn:
        async with nodes[TOWN].sessions.begin() as session:
            await withdraw(
                number,
                StepInput(),
                session=session,
                actor=applicant,
                now=cluster.now(),
                calendar=await load_calendar(session=session),
            )
    return Referred(number, withdrawn)


async def check_referral(cluster: Cluster, referred: Referred, figures: Figures) -> None:
    """The case at 榆次区: held (else lost), its referral and withdrawal applied once
    each (else doubled), the withdrawal after the referral and the status they make
    (else out of order)."""
    assert cluster.nodes is not None
    number = referred.number
    async with cluster.nodes[COUNTY].sessions() as session:
        held = await session.get(Case, number)
        actions = list(
            await session.scalars(
                select(AuditEvent.action)
                .where(
                    AuditEvent.case_number == number,
                    AuditEvent.action.in_([RECEIVE_ACTION, WITHDRAW_ACTION]),
                )
                .order_by(AuditEvent.seq)
            )
        )
    figures.doubled += sum(n - 1 for n in Counter(actions).values())
    wanted = [RECEIVE_ACTION, *([WITHDRAW_ACTION] if referred.withdrawn else [])]
    status = CaseStatus.WITHDRAWN if referred.withdrawn else CaseStatus.ACCEPTED
    if held is None:
        figures.lost += 1
        figures.notes.append(f"case {number} is not at 榆次区; its trail there: {actions}")
    elif list(dict.fromkeys(actions)) != wanted or held.status is not status:
        figures.out_of_order += 1
        figures.notes.append(f"case {number} at 榆次区: {held.status}, trail {actions}")
