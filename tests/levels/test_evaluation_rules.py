"""The rules of 好差评 and 投诉 (``levels/evaluations/service``) and their deadlines
(``levels/evaluations/timers``), without GraphQL.

Birth registrations (an immediate matter) are received and completed on the spot at
the 榆次区 centre of a demo city of this module's own (the shared one's case lists and
figures are other tests' business), in 2025,
around National Day (1–8 October off; Sunday 28 September and Saturday 11 October are
make-up working days) and May Day (1–5 May off; Sunday 27 April a working day). Every
refused call is followed by a commit, so "nothing written" means the service wrote
nothing before it refused, not that a rollback hid it."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import chinese_calendar
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.enums import AccountKind, Role
from auth.policy import Action, Resource, Target, allows
from auth.viewer import Viewer
from gateway.demo import load_demo
from gateway.nodes import LevelNode, NodeRegistry
from levels.audit.models import AuditEvent
from levels.calendar.workdays import WorkCalendar, load_calendar
from levels.cases.enums import ApplicantKind, CaseStatus, MaterialSource
from levels.cases.intake import Applicant, Submission, submit_case
from levels.cases.machine import Step
from levels.cases.models import Case
from levels.cases.service import NOT_STEPS, Actor, MaterialDraft, StepInput
from levels.cases.steps import take_step
from levels.common.clock import CHINA
from levels.common.enums import Level, WindowKind
from levels.common.errors import DomainError
from levels.common.models import ImplementationMaterial, Window
from levels.evaluations import service
from levels.evaluations.enums import (
    AUDIT_ACTIONS,
    AppealStatus,
    ComplaintStatus,
    RatingLevel,
    RectificationStatus,
    RollupDimension,
    Satisfaction,
)
from levels.evaluations.errors import EvaluationErrorCode as E
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.evaluations.timers import flag_overdue
from tests.gateway.test_demo import SECRET, fresh_stores

YUCI_ORG = "12140702MB00000006"
BIRTH = f"{YUCI_ORG}2000700800200"  # 出生登记: immediate
NATIONAL_DAY = dt.date(2025, 9, 30)  # a Tuesday, the last working day before the holiday
MAY_DAY = dt.date(2025, 4, 30)
COUNTY = "COUNTY"
_serial = itertools.count(1)

RECEPTIONIST = Actor(
    id="eval-receptionist", kind="STAFF", role="RECEPTIONIST", channel="COUNTER",
    org_code=YUCI_ORG,
)  # fmt: skip
REVIEWER = Actor(
    id="eval-reviewer", kind="STAFF", role="REVIEWER", channel="COUNTER", org_code=YUCI_ORG
)
SUPERVISOR = Actor(
    id="eval-supervisor", kind="STAFF", role="SUPERVISOR", channel="WEB", org_code=YUCI_ORG
)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHINA)


def reference_working_days(start: dt.date, n: int) -> dt.date:
    """chinesecalendar's own working days, counted by hand."""
    day = start
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def person(name: str, channel: str = "MOBILE") -> Actor:
    return Actor(id=name, kind="PERSON", channel=channel)


@pytest.fixture(scope="module")
async def nodes(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    async with fresh_stores(tmp_path_factory.mktemp("evaluation-rules")) as nodes:
        await load_demo(nodes, secret=SECRET)
        yield nodes


@pytest.fixture
def county(nodes: NodeRegistry) -> LevelNode:
    return nodes[Level.COUNTY]


async def completed_case(node: LevelNode, day: dt.date) -> tuple[str, Actor]:
    """A birth registration of an applicant of its own, completed on the spot at a
    department window on ``day``."""
    applicant = person(f"eval-applicant-{next(_serial)}")
    async with node.sessions.begin() as session:
        calendar = await load_calendar(session=session)
        guide = (
            await session.scalars(
                select(ImplementationMaterial.name)
                .where(ImplementationMaterial.implementation_code == BIRTH)
                .order_by(ImplementationMaterial.position)
            )
        ).all()
        windows = (
            await session.scalars(
                select(Window).where(
                    Window.org_code == YUCI_ORG, Window.kind == WindowKind.DEPARTMENT
                )
            )
        ).all()
        case = await submit_case(
            Submission(
                implementation_code=BIRTH,
                matter_name="出生登记",
                legal_limit_days=5,
                applicant=Applicant(
                    ApplicantKind.PERSON, applicant.id, "评价测试", "140702********0000"
                ),
                channel="COUNTER",
                materials=[MaterialDraft(n, MaterialSource.FILE, f"f-{n}") for n in guide],
            ),
            session=session,
            actor=RECEPTIONIST,
            now=at(day, 9),
            calendar=calendar,
        )
        number = case.number
        case.received_window_id = windows[0].id if windows else None
        await take_step(
            number, Step.COMPLETE, StepInput(), session=session, actor=RECEPTIONIST,
            now=at(day, 9), calendar=calendar,
        )  # fmt: skip
    return number, applicant


async def counts(node: LevelNode) -> dict[str, Any]:
    """What a refused call must leave as it was: rows, audit events, and the
    mutable columns of every rectification and complaint."""
    async with node.sessions() as s:
        return {
            "evaluations": (await s.execute(select(Evaluation.id, Evaluation.appeal_status))).all(),
            "rectifications": (
                await s.execute(
                    select(Rectification.id, Rectification.status, Rectification.callback_at)
                )
            ).all(),
            "complaints": (
                await s.execute(select(Complaint.id, Complaint.status, Complaint.satisfaction))
            ).all(),
            "events": await s.scalar(select(func.count()).select_from(AuditEvent)),
        }


Call = Callable[[AsyncSession, WorkCalendar], Awaitable[Any]]


async def done(node: LevelNode, call: Call) -> Any:
    async with node.sessions.begin() as session:
        return await call(session, await load_calendar(session=session))


async def refused(node: LevelNode, call: Call) -> E:
    """The code ``call`` is refused with; the session is committed all the same, and
    nothing may have changed."""
    before = await counts(node)
    async with node.sessions() as session:
        with pytest.raises(DomainError) as err:
            await call(session, await load_calendar(session=session))
        await session.commit()
    assert await counts(node) == before
    code = err.value.code
    assert isinstance(code, E)
    return code


def rate(
    number: str,
    actor: Actor,
    rating: RatingLevel = RatingLevel.SATISFIED,
    *,
    comment: str | None = None,
    when: dt.datetime | None = None,
    days: int = service.DEFAULT_RECTIFICATION_DAYS,
) -> Call:
    async def call(session: AsyncSession, calendar: WorkCalendar) -> service.Rated:
        return await service.rate_case(
            number, rating, comment, session=session, actor=actor,
            now=when or at(NATIONAL_DAY, 15), calendar=calendar, rectification_days=days,
        )  # fmt: skip

    return call


def on(row_call: Callable[..., Awaitable[Any]], rid: int, *args: Any, **kw: Any) -> Call:
    """A rectification, appeal or complaint step at the county, at ``when``."""
    actor = kw.pop("actor")
    when = kw.pop("when", at(NATIONAL_DAY, 16))

    async def call(session: AsyncSession, _calendar: WorkCalendar) -> Any:
        return await row_call(rid, *args, level=COUNTY, session=session, actor=actor, now=when)

    return call


async def events_of(node: LevelNode, number: str) -> list[tuple[str, str | None]]:
    async with node.sessions() as s:
        rows = await s.execute(
            select(AuditEvent.action, AuditEvent.actor_id)
            .where(AuditEvent.case_number == number)
            .order_by(AuditEvent.seq)
        )
        return [(a, who) for a, who in rows]


# --- rating ---------------------------------------------------------------------------


async def test_the_applicant_rates_once_per_channel(county: LevelNode) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    # given a completed case, when its applicant rates it on the phone
    rated = await done(county, rate(number, applicant, comment="  办得很快  "))
    # then the rating names who handled it, where, and what; nothing to rectify
    row = rated.evaluation
    assert (row.channel, row.rating, row.negative, row.comment) == (
        "MOBILE", RatingLevel.SATISFIED, False, "办得很快",
    )  # fmt: skip
    assert (row.staff_id, row.org_code, row.division_code) == (
        RECEPTIONIST.id, YUCI_ORG, "140702000000",
    )  # fmt: skip
    assert (row.basic_code, row.matter_name, row.rated_by) == (
        "000700800200", "出生登记", applicant.id,
    )  # fmt: skip
    assert rated.rectification is None
    assert (await events_of(county, number))[-1] == ("RATE_CASE", applicant.id)
    # the same channel again is refused, however it is rated
    for level in RatingLevel:
        assert await refused(county, rate(number, applicant, level)) is E.ALREADY_RATED
    # another channel is a rating of its own
    web = await done(county, rate(number, person(applicant.id, "WEB"), RatingLevel.BASIC))
    assert web.evaluation.channel == "WEB"
    assert await refused(county, rate(number, person(applicant.id, "WEB"))) is E.ALREADY_RATED


async def test_only_the_applicant_rates(county: LevelNode) -> None:
    number, _applicant = await completed_case(county, NATIONAL_DAY)
    for someone in (person("eval-someone-else"), RECEPTIONIST, SUPERVISOR):
        assert await refused(county, rate(number, someone)) is E.NOT_THE_APPLICANT


RATEABLE = {
    CaseStatus.APPROVED, CaseStatus.DENIED, CaseStatus.ISSUED, CaseStatus.DELIVERED,
    CaseStatus.ARCHIVED, CaseStatus.COMPLETED, CaseStatus.REJECTED,
}  # fmt: skip


async def test_only_a_case_with_a_result_is_rated(county: LevelNode) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    for status in CaseStatus:
        async with county.sessions() as session:
            case = await session.get(Case, number)
            assert case is not None
            case.status = status
            calendar = await load_calendar(session=session)
            try:
                await rate(number, applicant)(session, calendar)
                outcome = None
            except DomainError as e:
                outcome = e.code
            await session.rollback()
        assert outcome is (None if status in RATEABLE else E.NO_RESULT_YET), status
    assert await refused(county, rate("140702000000-20250101-99999", applicant)) is E.CASE_NOT_FOUND


async def test_bad_input_is_refused(county: LevelNode) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    nowhere = Actor(id=applicant.id, kind="PERSON", channel=None)
    assert await refused(county, rate(number, nowhere)) is E.CHANNEL_REQUIRED
    too_long = rate(number, applicant, comment="慢" * (service.COMMENT_MAX + 1))
    assert await refused(county, too_long) is E.TEXT_TOO_LONG
    # exactly as long as allowed is fine
    rated = await done(county, rate(number, applicant, comment="慢" * service.COMMENT_MAX))
    assert rated.evaluation.comment == "慢" * service.COMMENT_MAX


@pytest.mark.parametrize("level", list(RatingLevel), ids=lambda r: r.value)
async def test_a_bad_rating_opens_exactly_one_rectification(
    county: LevelNode, level: RatingLevel
) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    rated = await done(county, rate(number, applicant, level))
    bad = level in (RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED)
    assert rated.evaluation.negative is bad
    async with county.sessions() as s:
        rows = (
            await s.scalars(select(Rectification).where(Rectification.case_number == number))
        ).all()
    assert len(rows) == (1 if bad else 0)
    actions = [a for a, _ in await events_of(county, number)]
    assert actions.count("OPEN_RECTIFICATION") == (1 if bad else 0)
    if bad:
        (row,) = rows
        assert (row.status, row.evaluation_id, row.applicant_id) == (
            RectificationStatus.OPEN, rated.evaluation.id, applicant.id,
        )  # fmt: skip
        assert row.overdue_at is None and rated.rectification.id == row.id


@pytest.mark.parametrize(
    ("rated_on", "days", "due"),
    [
        # 9 Oct (Thu) 1, 10 (Fri) 2, Saturday 11 Oct a make-up day 3, 13 (Mon) 4, 14 (Tue) 5
        (NATIONAL_DAY, 5, dt.date(2025, 10, 14)),
        (NATIONAL_DAY, 3, dt.date(2025, 10, 11)),
        (NATIONAL_DAY, 1, dt.date(2025, 10, 9)),
        # Friday 26 Sep: Sunday 28 Sep is a working day, then 29, 30, then the holiday
        (dt.date(2025, 9, 26), 3, dt.date(2025, 9, 30)),
        # May Day 2025: 1–5 May off
        (MAY_DAY, 5, dt.date(2025, 5, 12)),
        (MAY_DAY, 10, dt.date(2025, 5, 19)),
    ],
)
async def test_the_rectification_is_due_in_working_days_across_the_holiday(
    county: LevelNode, rated_on: dt.date, days: int, due: dt.date
) -> None:
    assert reference_working_days(rated_on, days) == due
    number, applicant = await completed_case(county, rated_on)
    # rated late in the evening: the day of the rating is still day 0
    rated = await done(
        county,
        rate(number, applicant, RatingLevel.DISSATISFIED, when=at(rated_on, 22), days=days),
    )
    assert rated.rectification is not None and rated.rectification.due_on == due


# --- rectification --------------------------------------------------------------------


async def bad_rating(node: LevelNode, day: dt.date = NATIONAL_DAY) -> service.Rated:
    number, applicant = await completed_case(node, day)
    rated: service.Rated = await done(
        node, rate(number, applicant, RatingLevel.VERY_DISSATISFIED, when=at(day, 15))
    )
    return rated


async def test_callback_then_completion(county: LevelNode) -> None:
    rid = (await bad_rating(county)).rectification.id  # type: ignore[union-attr]
    complete, callback = service.complete_rectification, service.record_callback
    # not before the callback; never without text
    early = on(complete, rid, "增派窗口人员", actor=REVIEWER)
    assert await refused(county, early) is E.CALLBACK_REQUIRED
    assert await refused(county, on(callback, rid, "   ", actor=REVIEWER)) is E.TEXT_REQUIRED
    long = on(callback, rid, "话" * (service.TEXT_MAX + 1), actor=REVIEWER)
    assert await refused(county, long) is E.TEXT_TOO_LONG
    called = await done(county, on(callback, rid, "申请人反映排队过久", actor=REVIEWER))
    assert (called.callback_by, called.callback_note) == (REVIEWER.id, "申请人反映排队过久")
    assert called.status is RectificationStatus.OPEN
    assert await refused(county, on(complete, rid, "", actor=REVIEWER)) is E.TEXT_REQUIRED
    finished = await done(county, on(complete, rid, "增派窗口人员", actor=REVIEWER))
    assert (finished.status, finished.completed_by) == (RectificationStatus.COMPLETED, REVIEWER.id)
    assert finished.overdue_at is None  # within its deadline
    # closed: no more callbacks or completions
    assert (
        await refused(county, on(callback, rid, "再访", actor=REVIEWER)) is E.RECTIFICATION_CLOSED
    )
    again = on(complete, rid, "再改", actor=REVIEWER)
    assert await refused(county, again) is E.RECTIFICATION_CLOSED
    assert await refused(county, on(callback, 10**9, "x", actor=REVIEWER)) is (
        E.RECTIFICATION_NOT_FOUND
    )


async def test_a_late_completion_is_overdue(county: LevelNode) -> None:
    rated = await bad_rating(county)
    rect = rated.rectification
    assert rect is not None and rect.due_on == dt.date(2025, 10, 14)
    late = at(dt.date(2025, 10, 15), 9)
    await done(county, on(service.record_callback, rect.id, "已回访", actor=REVIEWER, when=late))
    row = await done(
        county, on(service.complete_rectification, rect.id, "整改", actor=REVIEWER, when=late)
    )
    assert row.overdue_at == late
    async with county.sessions() as s:
        event = await s.scalar(
            select(AuditEvent).where(
                AuditEvent.case_number == rect.case_number,
                AuditEvent.action == "COMPLETE_RECTIFICATION",
            )
        )
    assert event is not None and event.detail["onTime"] is False


# --- appeal ---------------------------------------------------------------------------


def figures(node: LevelNode, day: dt.date) -> Callable[[], Awaitable[dict[str | None, int]]]:
    """Ratings per staff member rated on ``day`` at 榆次区 (the roll-up's own query)."""

    async def read() -> dict[str | None, int]:
        stmt = service.rollup_query(
            RollupDimension.STAFF, prefix="140702", rated_from=at(day, 0),
            rated_before=at(day + dt.timedelta(days=1), 0),
        )  # fmt: skip
        async with node.sessions() as s:
            rows = (await s.execute(stmt)).all()
        return {t.key: t.total for t in service.merge_tallies(rows)}

    return read


async def test_an_appeal_once_dismissed_leaves_the_rating(county: LevelNode) -> None:
    rated = await bad_rating(county)
    eid = rated.evaluation.id
    appeal, decide = service.appeal_rating, service.decide_appeal
    assert await refused(county, on(appeal, eid, "", actor=RECEPTIONIST)) is E.TEXT_REQUIRED
    pending = await done(county, on(appeal, eid, "当日系统故障", actor=RECEPTIONIST))
    assert (pending.appeal_status, pending.appealed_by) == (AppealStatus.PENDING, RECEPTIONIST.id)
    assert await refused(county, on(appeal, eid, "再申诉", actor=RECEPTIONIST)) is (
        E.ALREADY_APPEALED
    )
    # a dismissal says why
    bare = on(decide, eid, False, None, actor=SUPERVISOR)
    assert await refused(county, bare) is E.TEXT_REQUIRED
    dismissed = await done(county, on(decide, eid, False, "日志无故障", actor=SUPERVISOR))
    assert dismissed.appeal_status is AppealStatus.DISMISSED
    async with county.sessions() as s:
        rect = await s.get(Rectification, rated.rectification.id)  # type: ignore[union-attr]
    assert rect is not None and rect.status is RectificationStatus.OPEN
    # decided once; no second appeal
    again = on(decide, eid, True, None, actor=SUPERVISOR)
    assert await refused(county, again) is E.NO_PENDING_APPEAL
    assert await refused(county, on(appeal, eid, "再申诉", actor=RECEPTIONIST)) is (
        E.ALREADY_APPEALED
    )
    assert await refused(county, on(appeal, 10**9, "x", actor=RECEPTIONIST)) is (E.RATING_NOT_FOUND)


async def test_an_upheld_appeal_voids_the_rectification_and_leaves_the_figures(
    county: LevelNode,
) -> None:
    day = dt.date(2025, 9, 29)  # rated on a day of its own: the figures are this test's
    read = figures(county, day)
    rated = await bad_rating(county, day)
    assert await read() == {RECEPTIONIST.id: 1}
    eid, rid = rated.evaluation.id, rated.rectification.id  # type: ignore[union-attr]
    # only a 差评 is appealed; nothing pending, nothing to decide
    number, applicant = await completed_case(county, day)
    good = await done(county, rate(number, applicant, RatingLevel.VERY_SATISFIED, when=at(day)))
    appeal, decide = service.appeal_rating, service.decide_appeal
    gid = good.evaluation.id
    assert await refused(county, on(appeal, gid, "不公", actor=REVIEWER)) is E.NOT_A_BAD_RATING
    assert await refused(county, on(decide, eid, True, None, actor=SUPERVISOR)) is (
        E.NO_PENDING_APPEAL
    )
    assert await read() == {RECEPTIONIST.id: 2}

    await done(county, on(appeal, eid, "评价对象错误", actor=REVIEWER))
    upheld = await done(county, on(decide, eid, True, None, actor=SUPERVISOR))
    assert (upheld.appeal_status, upheld.appeal_decided_by) == (
        AppealStatus.UPHELD, SUPERVISOR.id,
    )  # fmt: skip
    async with county.sessions() as s:
        rect = await s.get(Rectification, rid)
    assert rect is not None and rect.status is RectificationStatus.VOIDED
    # the unfair rating is left out of the roll-up; the rectification is closed
    assert await read() == {RECEPTIONIST.id: 1}
    assert await refused(county, on(service.record_callback, rid, "x", actor=REVIEWER)) is (
        E.RECTIFICATION_CLOSED
    )


def test_who_may_rectify_and_decide_an_appeal() -> None:
    """The posts are the policy table's: staff of the case's org rectify and appeal; a
    supervisor of the jurisdiction decides; the applicant alone rates."""
    target = Target(
        Resource.EVALUATION, division_code="140702000000", owner="applicant", org_code=YUCI_ORG
    )

    def staff(role: Role, org: str = YUCI_ORG, division: str = "140702000000") -> Viewer:
        return Viewer(
            AccountKind.STAFF, f"s-{role.value}", roles=frozenset({role}), org_code=org,
            jurisdiction=division,
        )  # fmt: skip

    elsewhere = staff(Role.SUPERVISOR, "12140703MB0000000X", "140703000000")
    assert allows(staff(Role.SUPERVISOR), Action.DECIDE_APPEAL, target)
    for viewer in (staff(Role.RECEPTIONIST), staff(Role.DIRECTOR), elsewhere):
        assert not allows(viewer, Action.DECIDE_APPEAL, target), viewer
    assert allows(staff(Role.RECEPTIONIST), Action.RECTIFY, target)
    assert not allows(staff(Role.RECEPTIONIST, "12140703MB0000000X"), Action.RECTIFY, target)
    assert allows(Viewer(AccountKind.PERSON, "applicant"), Action.RATE_CASE, target)
    assert not allows(Viewer(AccountKind.PERSON, "other"), Action.RATE_CASE, target)
    assert not allows(staff(Role.SUPERVISOR), Action.RATE_CASE, target)


# --- complaints -----------------------------------------------------------------------


def complain(
    actor: Actor,
    content: str = "窗口人员推诿",
    *,
    case_number: str | None = None,
    window_id: str | None = None,
    staff_id: str | None = None,
    when: dt.datetime | None = None,
    days: int = service.DEFAULT_COMPLAINT_DAYS,
) -> Call:
    draft = service.ComplaintDraft(
        content=content, org_code=YUCI_ORG, division_code="140702000000",
        case_number=case_number, window_id=window_id, staff_id=staff_id,
    )  # fmt: skip

    async def call(session: AsyncSession, calendar: WorkCalendar) -> Complaint:
        return await service.file_complaint(
            draft, level=COUNTY, session=session, actor=actor,
            now=when or at(NATIONAL_DAY, 11), calendar=calendar, complaint_days=days,
        )  # fmt: skip

    return call


async def test_a_complaint_names_what_it_is_about(county: LevelNode) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    assert await refused(county, complain(applicant)) is E.COMPLAINT_TARGET_REQUIRED
    blank = complain(applicant, "  ", case_number=number)
    assert await refused(county, blank) is E.TEXT_REQUIRED
    long = complain(applicant, "差" * (service.TEXT_MAX + 1), staff_id=RECEPTIONIST.id)
    assert await refused(county, long) is E.TEXT_TOO_LONG
    # against a case, a window or a staff member, each alone
    async with county.sessions() as s:
        window = await s.scalar(select(Window.id).where(Window.org_code == YUCI_ORG))
    for target in ({"case_number": number}, {"window_id": window}, {"staff_id": RECEPTIONIST.id}):
        row = await done(county, complain(applicant, **target))
        assert (row.case_number, row.window_id, row.staff_id) == (
            target.get("case_number"), target.get("window_id"), target.get("staff_id"),
        )  # fmt: skip
        assert (row.status, row.complainant_id, row.channel) == (
            ComplaintStatus.OPEN, applicant.id, "MOBILE",
        )  # fmt: skip
    assert ("FILE_COMPLAINT", applicant.id) in await events_of(county, number)


@pytest.mark.parametrize(
    ("filed_on", "days", "due"),
    [(NATIONAL_DAY, 5, dt.date(2025, 10, 14)), (MAY_DAY, 2, dt.date(2025, 5, 7))],
)
async def test_a_complaint_is_due_in_working_days(
    county: LevelNode, filed_on: dt.date, days: int, due: dt.date
) -> None:
    assert reference_working_days(filed_on, days) == due
    row = await done(
        county,
        complain(person("eval-complainant"), staff_id=RECEPTIONIST.id, when=at(filed_on, 21),
                 days=days),
    )  # fmt: skip
    assert row.due_on == due


async def test_handled_then_rated_once_by_the_complainant(county: LevelNode) -> None:
    number, applicant = await completed_case(county, NATIONAL_DAY)
    cid = (await done(county, complain(applicant, case_number=number))).id
    handle, satisfied = service.handle_complaint, service.rate_complaint_handling
    # not rated before it is handled
    early = on(satisfied, cid, Satisfaction.SATISFIED, actor=applicant)
    assert await refused(county, early) is E.COMPLAINT_NOT_HANDLED
    assert await refused(county, on(handle, cid, " ", actor=SUPERVISOR)) is E.TEXT_REQUIRED
    handled = await done(county, on(handle, cid, "约谈当事人", actor=SUPERVISOR))
    assert (handled.status, handled.handled_by) == (ComplaintStatus.HANDLED, SUPERVISOR.id)
    assert handled.overdue_at is None
    assert await refused(county, on(handle, cid, "再处理", actor=SUPERVISOR)) is (
        E.COMPLAINT_ALREADY_HANDLED
    )
    # by the complainant alone, once
    for other in (person("eval-someone-else"), SUPERVISOR):
        by_other = on(satisfied, cid, Satisfaction.DISSATISFIED, actor=other)
        assert await refused(county, by_other) is E.NOT_THE_COMPLAINANT
    rated = await done(county, on(satisfied, cid, Satisfaction.DISSATISFIED, actor=applicant))
    assert rated.satisfaction is Satisfaction.DISSATISFIED
    again = on(satisfied, cid, Satisfaction.SATISFIED, actor=applicant)
    assert await refused(county, again) is E.SATISFACTION_GIVEN
    assert await refused(county, on(handle, 10**9, "x", actor=SUPERVISOR)) is (
        E.COMPLAINT_NOT_FOUND
    )
    actions = [a for a, _ in await events_of(county, number)]
    assert actions.count("HANDLE_COMPLAINT") == actions.count("RATE_COMPLAINT_HANDLING") == 1


def test_ratings_and_complaints_are_never_steps_of_a_timeline() -> None:
    assert set(AUDIT_ACTIONS) <= set(NOT_STEPS)


# --- overdue: the worker's pass -------------------------------------------------------


async def flagged(node: LevelNode, model: Any, row_id: int) -> tuple[Any, list[Any]]:
    action = "RECTIFICATION_OVERDUE" if model is Rectification else "COMPLAINT_OVERDUE"
    key = "rectificationId" if model is Rectification else "complaintId"
    async with node.sessions() as s:
        row = await s.get(model, row_id)
        events = [
            e
            for e in await s.scalars(select(AuditEvent).where(AuditEvent.action == action))
            if e.detail.get(key) == row_id
        ]
    assert row is not None
    return row.overdue_at, events


async def test_the_pass_flags_what_is_open_past_its_deadline_once(county: LevelNode) -> None:
    day = dt.date(2025, 5, 6)  # due 13 May (5 working days), complaints too
    open_rect = (await bad_rating(county, day)).rectification
    done_rect = (await bad_rating(county, day)).rectification
    voided = await bad_rating(county, day)
    assert open_rect and done_rect and voided.rectification
    await done(county, on(service.record_callback, done_rect.id, "已回访", actor=REVIEWER,
                          when=at(day, 16)))  # fmt: skip
    await done(county, on(service.complete_rectification, done_rect.id, "整改",
                          actor=REVIEWER, when=at(day, 17)))  # fmt: skip
    # voided in time (voided late, it is flagged first: test_evaluation_deadlines_on_write)
    await done(county, on(service.appeal_rating, voided.evaluation.id, "误评", actor=REVIEWER,
                          when=at(day, 16)))  # fmt: skip
    await done(county, on(service.decide_appeal, voided.evaluation.id, True, None,
                          actor=SUPERVISOR, when=at(day, 17)))  # fmt: skip
    complainant = person("eval-late-complainant")
    open_c = await done(county, complain(complainant, staff_id=REVIEWER.id, when=at(day)))
    handled_c = await done(county, complain(complainant, staff_id=REVIEWER.id, when=at(day)))
    await done(county, on(service.handle_complaint, handled_c.id, "已处理", actor=SUPERVISOR,
                          when=at(day, 15)))  # fmt: skip
    due = open_rect.due_on
    assert due == open_c.due_on == dt.date(2025, 5, 13)

    # on the last day allowed, nothing is overdue yet
    await flag_overdue(county.sessions, level=COUNTY, now=at(due, 23))
    assert (await flagged(county, Rectification, open_rect.id))[0] is None
    # the day after, the open ones are flagged, each with one audit event
    after = at(due + dt.timedelta(days=1), 1)
    assert await flag_overdue(county.sessions, level=COUNTY, now=after) >= 2
    for model, rid in ((Rectification, open_rect.id), (Complaint, open_c.id)):
        when, events = await flagged(county, model, rid)
        assert when == after and len(events) == 1
        assert (events[0].actor_kind, events[0].detail["dueOn"]) == ("SYSTEM", due.isoformat())
    # what was done in time, or voided, is not
    for model, rid in (
        (Rectification, done_rect.id),
        (Rectification, voided.rectification.id),
        (Complaint, handled_c.id),
    ):
        assert await flagged(county, model, rid) == (None, [])
    # a later pass (or one after a restart) flags nothing twice
    assert await flag_overdue(county.sessions, level=COUNTY, now=after + dt.timedelta(days=3)) == 0
    for model, rid in ((Rectification, open_rect.id), (Complaint, open_c.id)):
        when, events = await flagged(county, model, rid)
        assert when == after and len(events) == 1
    # flagged stays flagged once it is done, late
    late = after + dt.timedelta(hours=8)
    await done(county, on(service.handle_complaint, open_c.id, "已处理", actor=SUPERVISOR,
                          when=late))  # fmt: skip
    assert (await flagged(county, Complaint, open_c.id))[0] == after


async def test_passes_at_once_flag_each_row_once(county: LevelNode) -> None:
    day = dt.date(2025, 4, 21)  # due Sunday 27 April, a make-up working day
    rects = [(await bad_rating(county, day)).rectification for _ in range(3)]
    assert all(r is not None and r.due_on == dt.date(2025, 4, 27) for r in rects)
    now = at(dt.date(2025, 4, 28), 2)
    counts_ = await asyncio.gather(
        *(flag_overdue(county.sessions, level=COUNTY, now=now) for _ in range(3))
    )
    assert sum(counts_) >= 3
    for r in rects:
        assert r is not None
        when, events = await flagged(county, Rectification, r.id)
        assert when == now and len(events) == 1
