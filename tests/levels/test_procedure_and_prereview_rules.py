"""The rules of two clocks besides the case's own, without a store:

* 特殊环节 (seed 000): the kinds the seeds name, a limit no longer than the promised one
  unless an exception reason is recorded, due and yellow days in working days.
* 网上预审 (seed 001): a pre-review clock of 2 working days for an application made
  online, and only for one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from levels.calendar.workdays import WorkCalendar
from levels.cases import prereview, procedures
from levels.cases.enums import ClockState, TimerKind
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case, CaseSuspension, CaseTimer
from levels.common.enums import SpecialProcedureKind
from levels.common.errors import DomainError
from levels.common.models import MatterImplementation

CAL = WorkCalendar()
D = dt.date


class Added:
    """What a step would write to the store (``session.add`` / ``add_all``)."""

    def __init__(self) -> None:
        self.rows: list[Any] = []

    def add(self, row: Any) -> None:
        self.rows.append(row)

    def add_all(self, rows: list[Any]) -> None:
        self.rows.extend(rows)


def guide(*entries: dict[str, Any]) -> MatterImplementation:
    return MatterImplementation(code="test-item", special_procedures=list(entries))


def case(promised: int = 10) -> Case:
    return Case(number="140702000000-20260930-00001", promised_limit_days=promised)


def begin(
    impl: MatterImplementation,
    kind: SpecialProcedureKind,
    *,
    today: dt.date = D(2026, 9, 29),
    promised: int = 10,
    **given: Any,
) -> tuple[dict[str, Any], Added]:
    added = Added()
    detail = procedures.start(
        added,  # type: ignore[arg-type]
        case(promised),
        impl,
        kind=kind,
        basis=given.get("basis"),
        limit_days=given.get("limit_days"),
        exception_reason=given.get("exception_reason"),
        today=today,
        calendar=CAL,
    )
    return detail, added


def test_seed_000_the_kinds_of_special_procedure_include_tendering_and_auction() -> None:
    names = {k.value for k in SpecialProcedureKind}
    # 检验、检测、鉴定、专家评审、公示、听证, and 招标、拍卖
    assert {
        "INSPECTION",
        "TESTING",
        "APPRAISAL",
        "EXPERT_REVIEW",
        "PUBLIC_NOTICE",
        "HEARING",
        "TENDERING",
        "AUCTION",
    } <= names
    impl = guide(
        {"kind": "TENDERING", "timeLimitDays": 8, "basis": "《招标投标法》"},
        {"kind": "AUCTION", "timeLimitDays": 6},
    )
    detail, _ = begin(impl, SpecialProcedureKind.TENDERING)
    assert detail["procedure"] == "TENDERING" and detail["basis"] == "《招标投标法》"
    assert begin(impl, SpecialProcedureKind.AUCTION)[0]["limitDays"] == 6
    with pytest.raises(DomainError) as err:
        begin(impl, SpecialProcedureKind.HEARING)
    assert err.value.code is CaseErrorCode.PROCEDURE_NOT_IN_GUIDE


def test_seed_000_a_procedure_is_due_its_limit_in_working_days_after_it_starts() -> None:
    impl = guide({"kind": "APPRAISAL", "timeLimitDays": 5})
    # started Tuesday 29 September 2026: 30 Sep = 1, 1–7 Oct off, 8 = 2, 9 = 3,
    # Saturday 10 Oct (a make-up working day) = 4, 12 Oct = 5
    _, added = begin(impl, SpecialProcedureKind.APPRAISAL, basis="  GB/T 26341  ")
    row = next(r for r in added.rows if isinstance(r, CaseSuspension))
    assert (row.due_on, row.yellow_on) == (D(2026, 10, 12), D(2026, 10, 10))
    assert row.basis == "GB/T 26341" and row.limit_days == 5
    timers = {r.kind: r.due_at for r in added.rows if isinstance(r, CaseTimer)}
    assert timers[TimerKind.PROCEDURE_WARNING].date() == D(2026, 10, 10)
    assert timers[TimerKind.PROCEDURE_DUE].date() == D(2026, 10, 13)
    assert procedures.procedure_state(row, D(2026, 10, 9)) is ClockState.GREEN
    assert procedures.procedure_state(row, D(2026, 10, 12)) is ClockState.YELLOW
    assert procedures.procedure_state(row, D(2026, 10, 13)) is ClockState.RED
    row.ended_on = D(2026, 10, 13)
    assert procedures.procedure_state(row, D(2026, 10, 14)) is ClockState.STOPPED


def test_seed_000_a_limit_beyond_the_promised_one_needs_an_exception_reason() -> None:
    impl = guide({"kind": "EXPERT_REVIEW", "timeLimitDays": 20})
    with pytest.raises(DomainError) as err:
        begin(impl, SpecialProcedureKind.EXPERT_REVIEW, promised=10)
    assert err.value.code is CaseErrorCode.PROCEDURE_LIMIT_EXCEEDS_PROMISE
    with pytest.raises(DomainError) as blank:
        begin(impl, SpecialProcedureKind.EXPERT_REVIEW, exception_reason="   ")
    assert blank.value.code is CaseErrorCode.PROCEDURE_LIMIT_EXCEEDS_PROMISE
    detail, _ = begin(impl, SpecialProcedureKind.EXPERT_REVIEW, exception_reason="专家组跨省")
    assert detail["exceptionReason"] == "专家组跨省" and detail["limitDays"] == 20
    shorter, _ = begin(impl, SpecialProcedureKind.EXPERT_REVIEW, limit_days=10)
    assert "exceptionReason" not in shorter


@pytest.mark.parametrize(
    ("channel", "due"),
    [
        ("WEB", D(2026, 10, 8)),  # 30 Sep = 1, the National Day week off, 8 Oct = 2
        ("MOBILE", D(2026, 10, 8)),
        ("COUNTER", None),
        ("PROXY", None),
        ("MAIL", None),
        ("KIOSK", None),
    ],
)
def test_seed_001_only_an_online_application_gets_a_two_working_day_pre_review(
    channel: str, due: dt.date | None
) -> None:
    assert prereview.due_on(channel, CAL, D(2026, 9, 29)) == due
