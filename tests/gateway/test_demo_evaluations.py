"""The demo city's 好差评 and 投诉 obey the rules the hub enforces: every case with a
result is rated, only by its applicant, once per channel, with all five levels on
several channels; each 差评 has exactly one rectification, due five working days after
the rating; a callback, a completion, a pending and an upheld appeal; complaints open,
handled and rated, and overdue — flagged once by the demo morning's pass."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from gateway.demo import load_demo
from gateway.demo.evaluations import PASS_AT
from gateway.nodes import NodeRegistry
from levels.audit.models import AuditEvent
from levels.calendar.workdays import load_calendar
from levels.cases.models import Case
from levels.cases.service import china_date
from levels.common.enums import LEVELS, Level
from levels.common.models import LevelBase
from levels.evaluations.enums import (
    AppealStatus,
    ComplaintStatus,
    RatingLevel,
    RectificationStatus,
)
from levels.evaluations.models import Complaint, Evaluation, Rectification
from levels.evaluations.service import DEFAULT_COMPLAINT_DAYS, DEFAULT_RECTIFICATION_DAYS
from tests.gateway.test_demo import SECRET, fresh_stores

WITH_RESULT = {"APPROVED", "DENIED", "ISSUED", "DELIVERED", "ARCHIVED", "COMPLETED", "REJECTED"}
BAD = {RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED}


@pytest.fixture(scope="module")
async def nodes(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeRegistry]:
    """A demo city of this module's own (other tests rate the shared one's cases)."""
    async with fresh_stores(tmp_path_factory.mktemp("demo-evaluations")) as nodes:
        await load_demo(nodes, secret=SECRET)
        yield nodes


async def _rows(nodes: NodeRegistry, model: type[LevelBase]) -> list[tuple[Level, Any]]:
    found = []
    for level in LEVELS:
        async with nodes[level].sessions() as s:
            found += [(level, r) for r in await s.scalars(select(model))]
    return found


async def _cases(nodes: NodeRegistry) -> dict[str, tuple[Level, Case]]:
    """Each case, in the store that holds it now."""
    return {c.number: (level, c) for level, c in await _rows(nodes, Case) if c.level is level}


async def test_every_case_with_a_result_is_rated_by_its_applicant_once_per_channel(
    nodes: NodeRegistry,
) -> None:
    cases = await _cases(nodes)
    ratings = await _rows(nodes, Evaluation)
    rated = {r.case_number for _, r in ratings}
    assert rated == {n for n, (_, c) in cases.items() if c.status.value in WITH_RESULT}
    for level, r in ratings:
        case_level, case = cases[r.case_number]
        # in the store that holds the case, by its applicant, after its result
        assert level is case_level, r.case_number
        assert r.rated_by == case.applicant_id, r.case_number
        assert r.rated_at >= case.updated_at, r.case_number
        assert (r.org_code, r.division_code, r.basic_code) == (
            case.org_code, case.division_code, case.basic_code,
        )  # fmt: skip
        assert r.negative is (r.rating in BAD)
    assert max(Counter((r.case_number, r.channel) for _, r in ratings).values()) == 1
    # realistic figures: all five levels, on four channels, at every level but none
    assert {r.rating for _, r in ratings} == set(RatingLevel)
    assert {r.channel for _, r in ratings} == {"WEB", "MOBILE", "KIOSK", "COUNTER"}
    assert {level for level, _ in ratings} == set(LEVELS)
    assert all(r.staff_id for level, r in ratings if level is not Level.VILLAGE)


async def test_each_bad_rating_has_one_rectification_due_in_working_days(
    nodes: NodeRegistry,
) -> None:
    ratings = {(level, r.id): r for level, r in await _rows(nodes, Evaluation)}
    rectifications = await _rows(nodes, Rectification)
    by_rating = Counter((level, r.evaluation_id) for level, r in rectifications)
    assert set(by_rating) == {key for key, r in ratings.items() if r.rating in BAD}
    assert set(by_rating.values()) == {1}
    for level, rect in rectifications:
        rating = ratings[(level, rect.evaluation_id)]
        async with nodes[level].sessions() as s:
            calendar = await load_calendar(session=s)
        rated_on = china_date(rating.rated_at)
        assert rect.due_on == calendar.add_working_days(rated_on, DEFAULT_RECTIFICATION_DAYS)
        assert rect.applicant_id == rating.rated_by and rect.case_number == rating.case_number
        # voided exactly when the appeal was upheld; completed only after a callback
        upheld = rating.appeal_status is AppealStatus.UPHELD
        assert (rect.status is RectificationStatus.VOIDED) is upheld
        if rect.status is RectificationStatus.COMPLETED:
            assert rect.callback_at is not None and rect.callback_at <= rect.completed_at
    kinds = Counter(
        (r.status, r.callback_at is not None, r.overdue_at is not None) for _, r in rectifications
    )
    assert kinds == {
        (RectificationStatus.COMPLETED, True, False): 1,  # called back, then rectified
        (RectificationStatus.OPEN, True, False): 1,  # called back, not yet rectified
        (RectificationStatus.OPEN, False, True): 1,  # appealed, and past its deadline
        (RectificationStatus.VOIDED, False, False): 1,  # the appeal was upheld
    }
    appeals = Counter(r.appeal_status for r in ratings.values() if r.appeal_status)
    assert appeals == {AppealStatus.PENDING: 1, AppealStatus.UPHELD: 1}


async def test_complaints_open_handled_and_overdue(nodes: NodeRegistry) -> None:
    complaints = await _rows(nodes, Complaint)
    cases = await _cases(nodes)
    for level, c in complaints:
        assert c.case_number or c.window_id or c.staff_id
        if c.case_number:
            case_level, case = cases[c.case_number]
            assert level is case_level and c.complainant_id == case.applicant_id
        async with nodes[level].sessions() as s:
            calendar = await load_calendar(session=s)
        assert c.due_on == calendar.add_working_days(china_date(c.filed_at), DEFAULT_COMPLAINT_DAYS)
        # overdue exactly when still open past its deadline on the demo's morning
        late = c.status is ComplaintStatus.OPEN and c.due_on < china_date(PASS_AT)
        assert (c.overdue_at is not None) is late
        assert (c.satisfaction is not None) <= (c.status is ComplaintStatus.HANDLED)
    assert Counter((c.status, c.overdue_at is not None) for _, c in complaints) == {
        (ComplaintStatus.OPEN, False): 1,
        (ComplaintStatus.OPEN, True): 1,
        (ComplaintStatus.HANDLED, False): 1,
    }
    assert any(c.satisfaction for _, c in complaints)


async def test_what_is_overdue_was_flagged_once_with_an_audit_event(nodes: NodeRegistry) -> None:
    flagged: Counter[str] = Counter()
    for level, event in await _rows(nodes, AuditEvent):
        if event.action in ("RECTIFICATION_OVERDUE", "COMPLAINT_OVERDUE"):
            assert event.at == PASS_AT and event.actor_kind == "SYSTEM"
            flagged[f"{level.value}:{event.action}:{event.detail}"] += 1
    assert sorted(flagged.values()) == [1, 1]
    # each is an event of its case's audit trail (never a step of its timeline)
    async with nodes[Level.COUNTY].sessions() as s:
        steps = await s.scalars(
            select(AuditEvent.action).where(AuditEvent.case_number == "140702000000-20261021-00001")
        )
        actions = list(steps)
    assert {"RATE_CASE", "OPEN_RECTIFICATION", "APPEAL_RATING", "RECTIFICATION_OVERDUE"} <= set(
        actions
    )
