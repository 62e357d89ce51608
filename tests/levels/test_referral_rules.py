"""The referral rules without a store: the deadline from receipt (the item's own limit,
else the hub's), its colours, and the whole-file check before referral."""

from __future__ import annotations

import datetime as dt

import pytest

from levels.calendar.workdays import WorkCalendar
from levels.cases import referral_clock, referral_rules
from levels.cases.enums import CaseStatus, ClockState, MaterialState
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case, CaseMaterial
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation

CAL = WorkCalendar()
D = dt.date
RECEIVED = D(2025, 9, 29)  # Monday, before National Day (1–8 October 2025)


def _case(status: CaseStatus = CaseStatus.SUBMITTED) -> Case:
    return Case(number="140702101201-20250929-00001", status=status)


def test_the_referral_deadline_counts_working_days_from_receipt_across_holidays() -> None:
    case = _case()
    referral_clock.start(case, CAL, RECEIVED, 5)
    # receipt is day 0; then 30 September, 9 and 10 October, Saturday 11 October (a
    # make-up working day, 调休上班) and Monday 13 October
    assert case.referral_due_on == D(2025, 10, 13)
    assert case.referral_yellow_on == D(2025, 10, 11)  # 4 of 5 days used: 80 %
    assert referral_clock.state(case, D(2025, 10, 10)) is ClockState.GREEN
    assert referral_clock.state(case, D(2025, 10, 11)) is ClockState.YELLOW
    assert referral_clock.state(case, D(2025, 10, 13)) is ClockState.YELLOW
    assert referral_clock.state(case, D(2025, 10, 14)) is ClockState.RED


def test_the_referral_clock_stops_once_the_case_is_referred_on_or_closed() -> None:
    for status in (CaseStatus.REFERRED, CaseStatus.WITHDRAWN, CaseStatus.ACCEPTED):
        case = _case(status)
        referral_clock.start(case, CAL, RECEIVED, 5)
        assert referral_clock.state(case, D(2026, 1, 5)) is ClockState.STOPPED, status
    # received at the deciding org: no referral clock at all
    assert referral_clock.state(_case(), D(2026, 1, 5)) is ClockState.STOPPED


def test_the_referral_limit_is_the_items_own_else_the_hubs_setting() -> None:
    own = MatterImplementation(code="x", referral_limit_days=10)
    unset = MatterImplementation(code="y", referral_limit_days=None)
    assert referral_clock.referral_limit(own, 5) == 10
    assert referral_clock.referral_limit(unset, 3) == 3


@pytest.mark.parametrize(
    ("states", "missing"),
    [
        ((MaterialState.PROVIDED, MaterialState.TOLERATED), []),  # 容缺 may follow
        ((MaterialState.MISSING, MaterialState.PROVIDED, MaterialState.INCORRECT), ["m0", "m2"]),
    ],
)
def test_a_file_is_referred_whole_and_the_refusal_names_each_material_owed(
    states: tuple[MaterialState, ...], missing: list[str]
) -> None:
    rows = [CaseMaterial(name=f"m{i}", state=s) for i, s in enumerate(states)]
    if not missing:
        referral_rules.refuse_incomplete(rows)
        return
    with pytest.raises(DomainError) as refused:
        referral_rules.refuse_incomplete(rows)
    assert refused.value.code is CaseErrorCode.REFERRAL_INCOMPLETE
    assert refused.value.detail == "、".join(missing)
