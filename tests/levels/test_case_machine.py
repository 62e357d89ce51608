"""The state machine of a case (``levels/cases/machine``) and the service that walks it
(``levels/cases/service``).

The table itself is checked pair by pair. The service is property-tested: random
sequences of steps with random input are taken on a freshly received case at the 榆次区
centre of the shared demo stores, one transaction per step, at advancing times. Each
step either moves the case exactly where the table says — one version and one audit
event further — or is refused with a typed error and changes nothing at all.

The cases here are received in December 2026 (other tests rely on their own days) by
an applicant of their own; their later steps may fall in 2027, a provisional year."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.chain import verify_chain
from levels.audit.models import AuditEvent, AuditHead
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.enums import (
    FINAL_STATUSES,
    ApplicantKind,
    CaseStatus,
    ClockState,
    Decision,
    MaterialSource,
    MaterialState,
    RejectionReason,
    SuspensionKind,
    TimerKind,
)
from levels.cases.errors import CaseErrorCode
from levels.cases.intake import Applicant, Submission, submit_case
from levels.cases.machine import OPEN_STATUSES, TRANSITIONS, Step, next_status
from levels.cases.models import Case, CaseMaterial, CaseSuspension, CaseTimer
from levels.cases.service import (
    DEFAULT_SUPPLEMENT_DAYS,
    SYSTEM,
    Actor,
    MaterialDraft,
    StepInput,
    china_date,
    clock_state,
)
from levels.cases.steps import take_step
from levels.common.clock import CHINA
from levels.common.enums import DeliveryMethod, HandlingKind, Level, SpecialProcedureKind
from levels.common.errors import DomainError
from levels.common.models import ImplementationMaterial, MatterImplementation
from levels.licences.enums import LicenceStatus
from levels.licences.keys import OrgSigner
from levels.licences.models import ELicence
from levels.licences.service import Issuing
from tests.conftest import TEST_SECRET

S = CaseStatus
T = TypeVar("T")
# the test stores' secret: it encrypts the org keys the demo made
SIGNER = OrgSigner(TEST_SECRET.encode())
CARD_FIELDS = {"category": "肢体", "grade": "二级"}  # 残疾人证 asks for these

YUCI_ORG = "12140702MB00000006"
DISABILITY_CARD = f"{YUCI_ORG}2000700400100"  # 残疾人证核发: promised 10 days, APPRAISAL
BIRTH = f"{YUCI_ORG}2000700800200"  # 出生登记: immediate
MATTERS = {DISABILITY_CARD: ("残疾人证核发", 20), BIRTH: ("出生登记", 5)}
# no other test receives cases in December 2026
FIRST_RECEIPT = dt.datetime(2026, 12, 1, 9, tzinfo=CHINA)
UNKNOWN_MATERIAL = "一份不存在的材料"

APPLICANT = Applicant(
    ApplicantKind.PERSON, "machine-walk-applicant", "性质测试", "140702********0000"
)
RESIDENT = Actor(id=APPLICANT.id, kind="PERSON", channel="MOBILE")
# who takes which step at the centre (the policy table is not this test's business)
POSTS = {
    Step.COMPLETE: "RECEPTIONIST",
    Step.NOTIFY_SUPPLEMENT: "RECEPTIONIST",
    Step.ACCEPT: "RECEPTIONIST",
    Step.PROPOSE_REJECTION: "RECEPTIONIST",
    # 窗口无否决权: the department head approves or declines what the window proposed
    Step.REJECT: "DIRECTOR",
    Step.DECLINE_REJECTION: "DIRECTOR",
    Step.CORRECT_ON_SPOT: "RECEPTIONIST",
    Step.START_REVIEW: "REVIEWER",
    Step.START_SPECIAL: "REVIEWER",
    Step.FINISH_SPECIAL: "REVIEWER",
    Step.DECIDE: "DIRECTOR",
    Step.DELIVER: "OUTPUT_CLERK",
    Step.ARCHIVE: "OUTPUT_CLERK",
}
BY_APPLICANT = {Step.SUPPLEMENT, Step.WITHDRAW}
BY_TIMER = {Step.DEEM_ACCEPTED, Step.CLOSE_UNSUPPLEMENTED}
ELSEWHERE = "12140703MB0000000X"  # another county's centre
STEPS = [s for s in Step if s is not Step.SUBMIT]
# what a walk takes (容缺's lapse is its timer's, once the promised day has passed:
# tests/scenarios/test_tolerance_commitment.py)
WALK = [s for s in STEPS if s is not Step.LAPSE_TOLERANCE]
# sources the hub fills itself, never asked for again (信息共享, the e-licence library)
SHARED = (MaterialSource.LICENCE, MaterialSource.IDENTITY)
# steps that end a case before its decision
ENDINGS = {Step.WITHDRAW, Step.REJECT, Step.CLOSE_UNSUPPLEMENTED}


# --- the table -------------------------------------------------------------------------


def test_the_table_has_every_step_but_submission() -> None:
    assert set(TRANSITIONS) == set(STEPS)


@pytest.mark.parametrize("step", list(TRANSITIONS), ids=lambda s: s.value)
def test_next_status_is_the_table_for_every_status(step: Step) -> None:
    allowed, target = TRANSITIONS[step]
    for status in CaseStatus:
        for decision in (None, *Decision):
            if status not in allowed or (target is None and decision is None):
                with pytest.raises(DomainError) as err:
                    next_status(step, status, decision)
                assert err.value.code is CaseErrorCode.INVALID_TRANSITION, (status, decision)
            elif target is not None:
                assert next_status(step, status, decision) is target
            else:  # DECIDE: where the decision says
                expected = S.APPROVED if decision is Decision.APPROVED else S.DENIED
                assert next_status(step, status, decision) is expected


def test_final_statuses_are_reached_and_never_left() -> None:
    for step, (allowed, _target) in TRANSITIONS.items():
        assert not allowed & FINAL_STATUSES, step
    assert TRANSITIONS[Step.WITHDRAW][0] == OPEN_STATUSES
    assert not OPEN_STATUSES & FINAL_STATUSES

    def successors(status: CaseStatus) -> set[CaseStatus]:
        out: set[CaseStatus] = set()
        for step, (allowed, _target) in TRANSITIONS.items():
            if status in allowed:
                out |= {next_status(step, status, d) for d in Decision}
        return out

    def reachable(start: CaseStatus) -> set[CaseStatus]:
        seen, todo = {start}, [start]
        while todo:
            for n in successors(todo.pop()) - seen:
                seen.add(n)
                todo.append(n)
        return seen

    from_submission = reachable(S.SUBMITTED)
    assert from_submission >= FINAL_STATUSES
    # no dead ends: from wherever a case can be, it can still be closed
    for status in from_submission:
        assert reachable(status) & FINAL_STATUSES, status


# --- random walks through the service ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """Everything a step may change: the case row, its rows, and the node's chain."""

    case: dict[str, Any]
    materials: tuple[tuple[Any, ...], ...]
    suspensions: tuple[tuple[Any, ...], ...]
    timers: tuple[tuple[Any, ...], ...]
    node_events: int
    head: tuple[Any, ...] | None
    case_events: tuple[tuple[str, str | None, str | None], ...]

    @property
    def status(self) -> CaseStatus:
        status: CaseStatus = self.case["status"]
        return status

    @property
    def version(self) -> int:
        version: int = self.case["version"]
        return version

    def material_states(self) -> dict[str, MaterialState]:
        return {m[0]: m[3] for m in self.materials}

    def open_suspensions(self) -> list[SuspensionKind]:
        return [s[0] for s in self.suspensions if s[4] is None]

    def pending_timers(self, kind: TimerKind) -> int:
        return sum(1 for t in self.timers if t[0] is kind and t[2] is None and t[3] is None)


async def snapshot(node: LevelNode, number: str) -> Snapshot:
    async with node.sessions() as s:
        case = await s.get(Case, number)
        assert case is not None
        row = {attr.key: getattr(case, attr.key) for attr in Case.__mapper__.column_attrs}
        materials = await s.scalars(
            select(CaseMaterial).where(CaseMaterial.case_number == number).order_by(CaseMaterial.id)
        )
        suspensions = await s.scalars(
            select(CaseSuspension)
            .where(CaseSuspension.case_number == number)
            .order_by(CaseSuspension.id)
        )
        timers = await s.scalars(
            select(CaseTimer).where(CaseTimer.case_number == number).order_by(CaseTimer.id)
        )
        head = (
            await s.execute(
                select(AuditHead.seq, AuditHead.hash).where(
                    AuditHead.division_code == case.division_code
                )
            )
        ).one_or_none()
        events = await s.execute(
            select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.case_number == number)
            .order_by(AuditEvent.seq)
        )
        return Snapshot(
            case=row,
            materials=tuple((m.name, m.source, m.reference, m.state, m.note) for m in materials),
            suspensions=tuple(
                (p.kind, p.procedure, p.limit_days, p.started_on, p.ended_on) for p in suspensions
            ),
            timers=tuple((t.kind, t.due_at, t.fired_at, t.cancelled_at) for t in timers),
            node_events=await s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            head=tuple(head) if head is not None else None,
            case_events=tuple((e.action, e.before, e.after) for e in events),
        )


def mostly(common: st.SearchStrategy[T], rare: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``common`` three times in four."""
    return st.sampled_from([common, common, common, rare]).flatmap(lambda chosen: chosen)


TEXTS = st.sampled_from([None, "", "  "])
NOTES = st.sampled_from([None, "申请表未签字", "复印件不清晰"])
DAYS = (1, 3, 5, 10)
AUTHORITY = "太谷区残疾人联合会"
REASONS = "经评定，残疾等级未达到发证标准"
TRACKING = "EMS1201-0001"


@dataclasses.dataclass(frozen=True)
class Offer:
    """What the service guide of the implementation offers."""

    procedures: list[SpecialProcedureKind]
    delivery: list[DeliveryMethod]


def draw_input(
    data: st.DataObject, step: Step, guide: list[str], outstanding: list[str], offered: Offer
) -> StepInput:
    """Input for ``step``: three times in four what a careful clerk would give (the
    step may still be refused, e.g. from the wrong status); otherwise anything plausible,
    often incomplete or wrong."""
    draw = data.draw
    if draw(mostly(st.just(True), st.just(False)), label="careful"):
        return draw_sound_input(data, step, guide, outstanding, offered)
    if step is Step.NOTIFY_SUPPLEMENT:
        names = mostly(st.sampled_from(guide), st.just(UNKNOWN_MATERIAL))
        return StepInput(
            missing=draw(st.lists(st.tuples(names, NOTES), max_size=3), label="missing"),
            supplement_days=draw(st.sampled_from([None, -1, 0, *DAYS]), label="days"),
        )
    if step in (Step.SUPPLEMENT, Step.CORRECT_ON_SPOT):
        how = draw(st.sampled_from(["all", "some", "none"]), label="supplement")
        if how == "all":
            names_given = list(guide)
        elif how == "some":
            names_given = draw(st.lists(st.sampled_from(guide), min_size=1, unique=True))
        else:
            names_given = []
        if draw(st.booleans(), label="odd material"):
            names_given.append(UNKNOWN_MATERIAL)
        references = st.one_of(st.builds(lambda n: f"file-{n}", st.integers(0, 99)), TEXTS)
        return StepInput(
            materials=[
                MaterialDraft(name, draw(st.sampled_from(MaterialSource)), draw(references))
                for name in names_given
            ]
        )
    if step is Step.PROPOSE_REJECTION:
        return StepInput(
            rejection_reason=draw(st.sampled_from([None, *RejectionReason])),
            authority=draw(st.one_of(st.just(AUTHORITY), TEXTS)),
        )
    if step is Step.START_SPECIAL:
        return StepInput(procedure=draw(st.sampled_from([None, *SpecialProcedureKind])))
    if step is Step.DECIDE:
        return StepInput(
            decision=draw(st.sampled_from([None, *Decision])),
            reasons=draw(st.one_of(st.just(REASONS), TEXTS)),
        )
    if step is Step.DELIVER:
        return StepInput(
            delivery_method=draw(st.sampled_from([None, *DeliveryMethod])),
            delivery_reference=draw(st.one_of(st.just(TRACKING), TEXTS)),
        )
    return StepInput(note=draw(st.sampled_from([None, "窗口办理"])))


def draw_sound_input(
    data: st.DataObject, step: Step, guide: list[str], outstanding: list[str], offered: Offer
) -> StepInput:
    draw = data.draw
    if step is Step.NOTIFY_SUPPLEMENT:
        return StepInput(
            missing=draw(
                st.lists(st.tuples(st.sampled_from(guide), NOTES), min_size=1, max_size=3)
            ),
            supplement_days=draw(st.sampled_from([None, *DAYS])),
        )
    if step in (Step.SUPPLEMENT, Step.CORRECT_ON_SPOT):
        # what the notice asked for (what is owed, on the spot), or everything again
        names_given = draw(st.sampled_from([outstanding, guide]))
        return StepInput(
            materials=[
                MaterialDraft(name, MaterialSource.FILE, f"file-supplemented-{i}")
                if draw(st.booleans())
                else MaterialDraft(name, MaterialSource.PAPER)
                for i, name in enumerate(names_given)
            ]
        )
    if step is Step.PROPOSE_REJECTION:
        reason = draw(st.sampled_from(RejectionReason))
        if reason is RejectionReason.NOT_OUR_JURISDICTION:
            return StepInput(rejection_reason=reason, authority=AUTHORITY)
        return StepInput(
            rejection_reason=reason, authority=draw(st.sampled_from([None, AUTHORITY]))
        )
    if step is Step.START_SPECIAL and offered.procedures:
        return StepInput(procedure=draw(st.sampled_from(offered.procedures)))
    if step is Step.DECIDE:
        decision = draw(st.sampled_from(Decision))
        reasons = REASONS if decision is Decision.DENIED else draw(st.sampled_from([None, REASONS]))
        return StepInput(decision=decision, reasons=reasons)
    if step is Step.DELIVER:
        method = draw(st.sampled_from(offered.delivery))
        reference = None if method is DeliveryMethod.ELECTRONIC else TRACKING
        return StepInput(delivery_method=method, delivery_reference=reference)
    return StepInput()


def staff(role: str, org_code: str = YUCI_ORG) -> Actor:
    return Actor(
        id=f"machine-walk-{role.lower()}",
        kind="STAFF",
        role=role,
        channel="COUNTER",
        org_code=org_code,
    )


def actor_for(data: st.DataObject, step: Step) -> Actor:
    if data.draw(st.integers(0, 19), label="from elsewhere") == 0:
        return staff(POSTS.get(step, "REVIEWER"), ELSEWHERE)
    if step in BY_APPLICANT:
        return RESIDENT
    if step in BY_TIMER:
        return SYSTEM
    return staff(POSTS[step])


def expected_error(
    before: Snapshot, step: Step, given: StepInput, actor: Actor, impl: MatterImplementation
) -> CaseErrorCode | None:
    """What the service must refuse the step with (``None``: it must take it), from the
    rules of the service guide — written independently of ``levels/cases/service``."""
    if given.expected_version is not None and given.expected_version != before.version:
        return CaseErrorCode.VERSION_CONFLICT
    if actor.kind == "STAFF" and actor.org_code != before.case["org_code"]:
        return CaseErrorCode.NOT_AT_THIS_ORG
    if step is Step.FINISH_SPECIAL and before.status is not S.SPECIAL_PROCEDURE:
        return CaseErrorCode.NO_PROCEDURE_RUNNING  # ending a procedure twice, or none
    allowed, target = TRANSITIONS[step]
    if before.status not in allowed or (target is None and given.decision is None):
        return CaseErrorCode.INVALID_TRANSITION
    states = before.material_states()
    sources = {m[0]: m[1] for m in before.materials}
    # 容缺: no approval while a promised material is outstanding
    promised = MaterialState.TOLERATED in states.values()
    if step is Step.COMPLETE and impl.handling_kind is not HandlingKind.IMMEDIATE:
        return CaseErrorCode.NOT_IMMEDIATE
    if step is Step.COMPLETE and promised:
        return CaseErrorCode.TOLERANCE_OUTSTANDING
    if step is Step.NOTIFY_SUPPLEMENT:
        for name, _note in given.missing:
            if name not in states:
                return CaseErrorCode.MATERIAL_NOT_IN_GUIDE
            if sources[name] in SHARED:
                return CaseErrorCode.HELD_IN_LIBRARY
        listed = {name for name, _note in given.missing}
        listed |= {name for name, state in states.items() if state is MaterialState.MISSING}
        if not listed:
            return CaseErrorCode.NOTHING_TO_SUPPLEMENT
        if given.supplement_days is not None and given.supplement_days < 1:
            return CaseErrorCode.INVALID_DEADLINE
    if step is Step.SUPPLEMENT:
        for m in given.materials:
            if m.name not in states:
                return CaseErrorCode.MATERIAL_NOT_IN_GUIDE
            if m.source is MaterialSource.IDENTITY:
                return CaseErrorCode.IDENTITY_IS_SHARED
            if m.source is not MaterialSource.PAPER and not (m.reference or "").strip():
                return CaseErrorCode.MATERIAL_REFERENCE_REQUIRED
            if sources[m.name] in SHARED and m.source is not sources[m.name]:
                return CaseErrorCode.HELD_IN_LIBRARY
            states[m.name] = MaterialState.PROVIDED
        if {MaterialState.MISSING, MaterialState.INCORRECT} & set(states.values()):
            return CaseErrorCode.SUPPLEMENT_INCOMPLETE
    if step is Step.CORRECT_ON_SPOT:
        # 当场更正: something corrected, and nothing missing or wrong afterwards
        if not given.materials:
            return CaseErrorCode.NOTHING_TO_SUPPLEMENT
        for m in given.materials:
            if m.name not in states:
                return CaseErrorCode.MATERIAL_NOT_IN_GUIDE
            if m.source is MaterialSource.IDENTITY:
                return CaseErrorCode.IDENTITY_IS_SHARED
            if m.source is not MaterialSource.PAPER and not (m.reference or "").strip():
                return CaseErrorCode.MATERIAL_REFERENCE_REQUIRED
            if sources[m.name] in SHARED and m.source is not sources[m.name]:
                return CaseErrorCode.HELD_IN_LIBRARY
            states[m.name] = MaterialState.PROVIDED
        if {MaterialState.MISSING, MaterialState.INCORRECT} & set(states.values()):
            return CaseErrorCode.NOT_CORRECTED_ON_SPOT
    proposed = before.case["rejection_proposed_by"]
    if step in (Step.REJECT, Step.DECLINE_REJECTION) and proposed is None:
        return CaseErrorCode.NO_REJECTION_PROPOSED
    if step is Step.REJECT and proposed == actor.id:
        return CaseErrorCode.SECOND_PERSON_REQUIRED
    if step is Step.PROPOSE_REJECTION:
        if proposed is not None:
            return CaseErrorCode.REJECTION_PENDING
        if given.rejection_reason is None:
            return CaseErrorCode.INVALID_TRANSITION
        if (
            given.rejection_reason is RejectionReason.NOT_OUR_JURISDICTION
            and not (given.authority or "").strip()
        ):
            return CaseErrorCode.AUTHORITY_REQUIRED
    if step is Step.START_SPECIAL:
        offered = {p["kind"] for p in impl.special_procedures}
        if given.procedure is None or given.procedure.value not in offered:
            return CaseErrorCode.PROCEDURE_NOT_IN_GUIDE
    if (
        step is Step.DECIDE
        and given.decision is Decision.DENIED
        and not (given.reasons or "").strip()
    ):
        return CaseErrorCode.REASONS_REQUIRED
    if step is Step.DECIDE and given.decision is Decision.APPROVED and promised:
        return CaseErrorCode.TOLERANCE_OUTSTANDING
    if step is Step.DELIVER:
        method = given.delivery_method
        if method is None or method.value not in impl.delivery_methods:
            return CaseErrorCode.DELIVERY_METHOD_NOT_OFFERED
        if method is not DeliveryMethod.ELECTRONIC and not (given.delivery_reference or "").strip():
            return CaseErrorCode.DELIVERY_REFERENCE_REQUIRED
    return None


def check_invariants(now: Snapshot, impl: MatterImplementation) -> None:
    """What holds of a case whatever it went through."""
    case, status = now.case, now.status
    assert isinstance(status, CaseStatus)
    # the clock is suspended exactly while waiting for 补正 or in a special procedure
    open_kinds = {
        S.AWAITING_SUPPLEMENT: [SuspensionKind.SUPPLEMENT],
        S.SPECIAL_PROCEDURE: [SuspensionKind.SPECIAL_PROCEDURE],
    }
    assert now.open_suspensions() == open_kinds.get(status, []), status
    # a deadline is pending exactly while the case waits for it
    assert now.pending_timers(TimerKind.SUPPLEMENT_DEADLINE) == (status is S.AWAITING_SUPPLEMENT)
    assert now.pending_timers(TimerKind.ARCHIVE_DUE) == (status is S.DELIVERED)
    if status is S.SUBMITTED:
        promised = impl.handling_kind is HandlingKind.PROMISED
        assert now.pending_timers(TimerKind.DEEMED_ACCEPTANCE) == promised
    assert (case["closed_at"] is not None) == (status in FINAL_STATUSES)
    # a proposed rejection waits only while the case is SUBMITTED; REJECTED keeps it
    if case["rejection_proposed_by"] is not None:
        assert status in {S.SUBMITTED, S.REJECTED}, status
    if status is S.REJECTED:
        assert case["rejection_proposed_by"] is not None
    assert (case["due_on"] is None) == (case["accepted_on"] is None)
    if status not in {S.ACCEPTED, S.UNDER_REVIEW}:
        reading = clock_state(SimpleNamespace(**case), china_date(case["updated_at"]))  # type: ignore[arg-type]
        assert reading is ClockState.STOPPED
    if status in {S.APPROVED, S.DENIED}:
        assert case["decision"] is Decision(status.value)
        assert (case["remedy"] is not None) == (status is S.DENIED)
    if status is S.AWAITING_SUPPLEMENT:
        assert case["supplement_deadline"] is not None


def check_effects(
    before: Snapshot,
    after: Snapshot,
    step: Step,
    given: StepInput,
    now: dt.datetime,
    calendar: WorkCalendar,
) -> None:
    """What a step that was taken must have written, beyond the status."""
    case, today = after.case, china_date(now)
    assert case["updated_at"] == now
    if step is Step.NOTIFY_SUPPLEMENT:
        days = DEFAULT_SUPPLEMENT_DAYS if given.supplement_days is None else given.supplement_days
        assert case["supplement_deadline"] == calendar.add_working_days(today, days)
        # listed: one handed in is marked incorrect; one never handed in, or promised
        # for later (容缺) and now asked for, is missing — 补正 must bring both
        was, now_is = before.material_states(), after.material_states()
        for name, _note in given.missing:
            if was[name] is MaterialState.PROVIDED:
                assert now_is[name] is MaterialState.INCORRECT, name
            else:
                assert now_is[name] is MaterialState.MISSING, name
    if step is Step.SUPPLEMENT:
        assert case["accepted_on"] == today
        assert set(after.material_states().values()) <= {
            MaterialState.PROVIDED,
            MaterialState.TOLERATED,
        }
    if step is Step.CORRECT_ON_SPOT:
        # counted from receipt, whenever the correction was made
        assert case["accepted_on"] == china_date(case["submitted_at"])
        assert not case["deemed_accepted"] and case["supplement_deadline"] is None
    if step in (Step.ACCEPT, Step.DEEM_ACCEPTED):
        assert case["accepted_on"] == china_date(case["submitted_at"])
        assert case["deemed_accepted"] is (step is Step.DEEM_ACCEPTED)
    if step is Step.START_SPECIAL:
        assert len(after.suspensions) == len(before.suspensions) + 1
        assert after.suspensions[-1][1] == (given.procedure.value if given.procedure else None)
    if step is Step.DELIVER:
        assert case["delivery_method"] is given.delivery_method
    if step is Step.PROPOSE_REJECTION:
        # proposed, not yet in effect: the case waits for a second person
        assert case["rejection_reason"] is given.rejection_reason
        assert after.status is S.SUBMITTED and case["rejection_proposed_at"] == now
    if step is Step.REJECT:
        # what the window proposed takes effect, as it was proposed
        assert case["rejection_reason"] is before.case["rejection_reason"]
        assert case["rejection_proposed_by"] == before.case["rejection_proposed_by"]
    if step is Step.DECLINE_REJECTION:
        assert case["rejection_proposed_by"] is None and case["rejection_reason"] is None


async def _in_one_transaction(
    node: LevelNode,
    number: str,
    step: Step,
    given: StepInput,
    actor: Actor,
    now: dt.datetime,
    calendar: WorkCalendar,
    issuing: Issuing | None = None,
) -> tuple[CaseStatus, int] | DomainError:
    async with node.sessions() as session:
        try:
            case = await take_step(
                number,
                step,
                given,
                session=session,
                actor=actor,
                now=now,
                calendar=calendar,
                issuing=issuing,
            )
        except DomainError as e:
            await session.rollback()
            return e
        outcome = (case.status, case.version)
        await session.commit()
        return outcome


async def check_licences(node: LevelNode, number: str, impl: MatterImplementation) -> None:
    """100 %: a case approved under an item that issues a licence has exactly one
    VALID licence of its type; any other case has none."""
    async with node.sessions() as session:
        case = await session.get(Case, number)
        rows = (
            await session.scalars(select(ELicence).where(ELicence.source_case_number == number))
        ).all()
    assert case is not None
    if case.decision is Decision.APPROVED and impl.issues_licence_type:
        assert [(r.type_code, r.status) for r in rows] == [
            (impl.issues_licence_type, LicenceStatus.VALID)
        ], number
        assert rows[0].holder_id == case.applicant_id
    else:
        assert rows == [], number


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_walks_follow_the_table_or_change_nothing(
    nodes: NodeRegistry, data: st.DataObject
) -> None:
    node = nodes[Level.COUNTY]
    code = data.draw(mostly(st.just(DISABILITY_CARD), st.just(BIRTH)), label="implementation")
    async with node.sessions() as session:
        calendar = await load_calendar(session=session)
        impl = await session.get(MatterImplementation, code)
        assert impl is not None
        guide = list(
            (
                await session.scalars(
                    select(ImplementationMaterial.name)
                    .where(ImplementationMaterial.implementation_code == code)
                    .order_by(ImplementationMaterial.position)
                )
            ).all()
        )
    offered = Offer(
        procedures=[SpecialProcedureKind(p["kind"]) for p in impl.special_procedures],
        delivery=[DeliveryMethod(m) for m in impl.delivery_methods],
    )
    now = FIRST_RECEIPT + dt.timedelta(
        days=data.draw(st.integers(0, 30), label="day"),
        hours=data.draw(st.integers(0, 8), label="hour"),
    )
    left_out = data.draw(st.sets(st.sampled_from(guide), max_size=1), label="left out")
    tolerance = data.draw(st.booleans(), label="容缺")
    matter_name, legal_days = MATTERS[code]
    async with node.sessions() as session:
        case = await submit_case(
            Submission(
                implementation_code=code,
                matter_name=matter_name,
                legal_limit_days=legal_days,
                applicant=APPLICANT,
                channel="MOBILE",
                materials=[
                    MaterialDraft(m, MaterialSource.FILE, f"file-{i}")
                    for i, m in enumerate(guide)
                    if m not in left_out
                ],
                tolerance_deadline=china_date(now) + dt.timedelta(days=10) if tolerance else None,
            ),
            session=session,
            actor=RESIDENT,
            now=now,
            calendar=calendar,
        )
        number = case.number
        await session.commit()
    note(f"{number}: {impl.handling_kind.value}, left out {sorted(left_out)}")

    current = await snapshot(node, number)
    assert current.status is S.SUBMITTED and current.version == 1
    check_invariants(current, impl)
    taken: list[tuple[str, str | None, str | None]] = list(current.case_events)
    assert taken == [("SUBMIT", None, "SUBMITTED")]

    # 1 to 12 steps, long walks as often as short ones
    for _ in range(12 - data.draw(st.integers(0, 11), label="12 - steps")):
        before = current
        # mostly a step that moves the case on (else walks rarely get past acceptance),
        # sometimes one that ends it early, sometimes any step at all
        allowed = [s for s in WALK if before.status in TRANSITIONS[s][0]]
        choices: list[st.SearchStrategy[Step]] = []
        if onward := [s for s in allowed if s not in ENDINGS]:
            choices += [st.sampled_from(onward)] * 7
        if endings := [s for s in allowed if s in ENDINGS]:
            choices += [st.sampled_from(endings)]
        choices += [st.sampled_from(WALK)] * 2
        step = data.draw(st.sampled_from(choices).flatmap(lambda chosen: chosen), label="step")
        outstanding = [
            name
            for name, state in before.material_states().items()
            if state in (MaterialState.MISSING, MaterialState.INCORRECT)
        ]
        given = draw_input(data, step, guide, outstanding, offered)
        versions = [None, None, None, before.version, before.version, before.version - 1]
        expected_version = data.draw(st.sampled_from(versions), label="expected version")
        given = dataclasses.replace(given, expected_version=expected_version)
        actor = actor_for(data, step)
        now += dt.timedelta(hours=data.draw(st.integers(0, 72), label="hours later"))
        expected = expected_error(before, step, given, actor, impl)

        # an approval of an issuing item is given the fields its licence type needs
        approving = step is Step.COMPLETE or (
            step is Step.DECIDE and given.decision is Decision.APPROVED
        )
        fields = CARD_FIELDS if approving and impl.issues_licence_type else {}
        issuing = Issuing(SIGNER, fields)
        outcome = await _in_one_transaction(
            node, number, step, given, actor, now, calendar, issuing
        )
        current = await snapshot(node, number)
        what = f"{step.value} from {before.status.value} at {now.isoformat()}: {given}"
        note(f"{what} -> {outcome}")
        # what the walks reach (pytest --hypothesis-show-statistics)
        event(f"status {current.status.value}")
        event(f"{step.value}: {outcome.code.value if isinstance(outcome, DomainError) else 'ok'}")

        if isinstance(outcome, DomainError):
            assert outcome.code is expected, f"{what}: refused with {outcome.code}"
            # refused: nothing at all changed, in the case or in the chain
            assert current == before, what
        else:
            assert expected is None, f"{what}: taken, but {expected} expected"
            target = next_status(step, before.status, given.decision)
            assert outcome == (target, before.version + 1), what
            assert current.status is target and current.version == before.version + 1, what
            issued = int(approving and impl.issues_licence_type is not None)
            assert current.node_events == before.node_events + 1 + issued, what
            taken.append((step.value, before.status.value, target.value))
            if issued:
                taken.append(("ISSUE_LICENCE", None, "VALID"))
            assert list(current.case_events) == taken, what
            check_effects(before, current, step, given, now, calendar)
        if before.status in FINAL_STATUSES:
            assert current.status is before.status, what
        check_invariants(current, impl)
        await check_licences(node, number, impl)

    async with node.sessions() as session:
        report = await verify_chain(session=session, level="COUNTY")
    assert report.valid, report
    final = await snapshot(node, number)
    assert list(final.case_events) == taken
    # every step moved the version once; issuing a licence is not a step of the case
    assert final.version == len([t for t in taken if t[0] != "ISSUE_LICENCE"])
