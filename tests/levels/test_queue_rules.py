"""The rules of windows at work, without GraphQL: kinds of day on the working-day
calendar, opening hours, who is on duty at an A/B window, which window may call which
ticket, the calling order and the wait estimate."""

from __future__ import annotations

import datetime as dt

import pytest

from levels.calendar.workdays import WorkCalendar
from levels.common.clock import CHINA
from levels.common.enums import WindowKind
from levels.common.errors import DomainError
from levels.common.models import Window
from levels.windows import hours
from levels.windows.board import Board, acting_side, can_call, prefix_of
from levels.windows.enums import DayKind, PostSide, TicketChannel, TicketStatus
from levels.windows.hours import Span
from levels.windows.models import QueueTicket, WindowSetup

ORG = "12140702MB00000006"
DAY = dt.date(2025, 9, 30)


def _at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA)


def _window(n: int, number: str, kind: WindowKind, departments: list[str]) -> Window:
    return Window(
        id=f"140702000000W{n:02d}",
        org_code=ORG,
        number=number,
        name=number,
        kind=kind,
        department_ids=departments,
    )


def _setup(
    window: Window, *, a: bool = False, b: bool = False, codes: tuple[str, ...] = ()
) -> WindowSetup:
    return WindowSetup(
        window_id=window.id,
        org_code=ORG,
        a_staff_id="staff-a",
        b_staff_id="staff-b",
        a_on_post_since=_at(8) if a else None,
        b_on_post_since=_at(8) if b else None,
        basic_codes=list(codes),
        kiosk_functions=[],
        updated_at=_at(8),
    )


_ids = iter(range(1, 10_000))


def _ticket(number: str, issued: dt.datetime, **fields: object) -> QueueTicket:
    values: dict[str, object] = {
        "id": next(_ids),
        "org_code": ORG,
        "division_code": "140702000000",
        "service_date": DAY,
        "number": number,
        "window_kind": WindowKind.COMPREHENSIVE_RECEPTION,
        "channel": TicketChannel.MOBILE,
        "issued_by": "someone",
        "issued_at": issued,
        "priority": 0,
        "status": TicketStatus.WAITING,
        "recalls": 0,
        **fields,
    }
    return QueueTicket(**values)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (dt.date(2025, 9, 30), DayKind.WORKDAY),  # a Tuesday
        (dt.date(2025, 9, 28), DayKind.WORKDAY),  # a Sunday worked (调休上班)
        (dt.date(2025, 10, 1), DayKind.HOLIDAY),  # National Day, a Wednesday
        (dt.date(2025, 10, 4), DayKind.HOLIDAY),  # a Saturday inside the holiday
        (dt.date(2025, 10, 11), DayKind.WORKDAY),  # a Saturday worked
        (dt.date(2025, 10, 18), DayKind.WEEKEND),  # a plain Saturday
        (dt.date(2026, 2, 17), DayKind.HOLIDAY),  # Spring Festival 2026
    ],
)
def test_the_kind_of_day_comes_from_the_working_day_calendar(day: dt.date, kind: DayKind) -> None:
    assert hours.day_kind(WorkCalendar(), day) is kind


def test_an_override_closes_a_weekday_as_a_holiday() -> None:
    typhoon = dt.date(2025, 9, 30)
    calendar = WorkCalendar({typhoon: (False, "台风停工")})
    assert hours.day_kind(calendar, typhoon) is DayKind.HOLIDAY
    assert not hours.open_now([], calendar, _at(10, 0, typhoon))


def test_standard_hours_open_on_working_days_only_and_close_at_the_minute() -> None:
    calendar = WorkCalendar()
    assert hours.open_now([], calendar, _at(8, 30))
    assert not hours.open_now([], calendar, _at(8, 29))
    assert not hours.open_now([], calendar, _at(12, 0))  # the span closes at 12:00
    assert hours.open_now([], calendar, _at(14, 30))
    assert not hours.open_now([], calendar, _at(10, 0, dt.date(2025, 10, 18)))
    kiosk = [Span(k, 0, hours.DAY_MINUTES) for k in DayKind]
    assert hours.open_now(kiosk, calendar, _at(3, 0, dt.date(2025, 10, 1)))


def test_own_hours_replace_the_standard_ones_and_holidays_need_their_own() -> None:
    calendar = WorkCalendar()
    saturday_only = [Span(DayKind.WEEKEND, 540, 720, extended=True)]
    assert hours.open_now(saturday_only, calendar, _at(10, 0, dt.date(2025, 10, 18)))
    assert not hours.open_now(saturday_only, calendar, _at(10, 0))  # no weekday spans
    assert not hours.open_now(saturday_only, calendar, _at(10, 0, dt.date(2025, 10, 4)))


@pytest.mark.parametrize(
    "spans",
    [
        [Span(DayKind.WORKDAY, 600, 600)],
        [Span(DayKind.WORKDAY, 700, 600)],
        [Span(DayKind.WORKDAY, 0, 1441)],
        [Span(DayKind.WORKDAY, 480, 720), Span(DayKind.WORKDAY, 700, 800)],
    ],
)
def test_hours_that_make_no_sense_are_refused(spans: list[Span]) -> None:
    with pytest.raises(DomainError) as refused:
        hours.validate(spans)
    assert refused.value.code.value == "INVALID_HOURS"


def test_adjacent_spans_of_a_day_are_fine_and_clock_text_round_trips() -> None:
    spans = [Span(DayKind.WORKDAY, 720, 870), Span(DayKind.WORKDAY, 510, 720)]
    assert [s.opens for s in hours.validate(spans)] == [510, 720]
    assert hours.parse_clock("24:00", ["x"]) == hours.DAY_MINUTES
    assert hours.clock_text(hours.parse_clock("08:30", ["x"])) == "08:30"
    for bad in ("8h30", "12:60", "24:01", ""):
        with pytest.raises(DomainError):
            hours.parse_clock(bad, ["x"])


def test_a_holds_the_window_b_only_while_a_is_away() -> None:
    window = _window(1, "A01", WindowKind.COMPREHENSIVE_RECEPTION, [])
    assert acting_side(_setup(window, a=True, b=True)) is PostSide.A
    assert acting_side(_setup(window, b=True)) is PostSide.B
    assert acting_side(_setup(window)) is None
    assert acting_side(None) is None


def test_which_window_may_call_which_ticket() -> None:
    general = _window(1, "A01", WindowKind.COMPREHENSIVE_RECEPTION, [])
    civil = _window(2, "A02", WindowKind.COMPREHENSIVE_RECEPTION, ["140702000000D02"])
    police = _window(5, "D01", WindowKind.DEPARTMENT, ["140702000000D09"])
    listed = _setup(civil, codes=("000700400100",))
    relief = _ticket("A001", _at(9), basic_code="000700100100", department_id="140702000000D02")
    card = _ticket("A002", _at(9), basic_code="000700400100", department_id="140702000000D05")
    # no departments: every matter (无差别受理); matters listed win over departments
    assert can_call(general, None, relief) and can_call(general, None, card)
    assert can_call(civil, None, relief) and not can_call(civil, None, card)
    assert can_call(civil, listed, card) and not can_call(civil, listed, relief)
    # another kind of window never calls it; a ticket for one window, only that one
    assert not can_call(police, None, relief)
    pinned = _ticket("A003", _at(9), window_id=civil.id)
    assert can_call(civil, None, pinned) and not can_call(general, None, pinned)
    assert (prefix_of(police, None), prefix_of(general, _setup(general))) == ("D", "A")


def test_appointments_first_then_by_issue_time_and_an_honest_estimate() -> None:
    window = _window(1, "A01", WindowKind.COMPREHENSIVE_RECEPTION, [])
    board = Board(ORG, DAY, windows=[window], setups={window.id: _setup(window, a=True)})
    early = _ticket("A001", _at(9, 0))
    late = _ticket("A002", _at(9, 10))
    # transferred from another window: it keeps its 8:50 issue time, so its place
    moved = _ticket("A003", _at(8, 50), window_id=window.id, transferred_from="x")
    booked = _ticket("Y001", _at(9, 20), priority=1, window_id=window.id)
    board.tickets = [late, early, moved, booked]
    assert [t.number for t in board.waiting_for(window)] == ["Y001", "A003", "A001", "A002"]
    assert board.ahead_of(late) == 3
    # no estimate before the window has finished a ticket today
    assert board.view(window).estimated_wait_minutes is None
    done = _ticket(
        "A000", _at(8, 30), status=TicketStatus.DONE, called_window_id=window.id,
        called_at=_at(8, 31), finished_at=_at(8, 43),
    )  # fmt: skip
    board.tickets.append(done)
    view = board.view(window)
    # 12 minutes a person × 4 waiting ÷ 1 staffed window
    assert (view.estimated_wait_minutes, view.staffed, view.now_serving) == (48, True, None)
