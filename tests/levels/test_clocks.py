"""The case clock through real holidays (chinesecalendar's 2025 and 2026 schedules):
due dates, suspensions, the colours, immediate matters, provisional readings, and the
deadlines around acceptance."""

from __future__ import annotations

import datetime as dt

import pytest

from levels.calendar.workdays import WorkCalendar
from levels.cases.clocks import (
    ClockReading,
    Suspension,
    archive_due,
    deemed_acceptance_deadline,
    read_clock,
    supplement_notice_deadline,
)
from levels.cases.enums import ClockState

D = dt.date
CAL = WorkCalendar()
GREEN, YELLOW, RED, STOPPED = (
    ClockState.GREEN,
    ClockState.YELLOW,
    ClockState.RED,
    ClockState.STOPPED,
)


def read(
    accepted_on: dt.date | None,
    limit_days: int,
    today: dt.date,
    *suspensions: Suspension,
    calendar: WorkCalendar = CAL,
    stopped: bool = False,
) -> ClockReading:
    return read_clock(
        calendar=calendar,
        accepted_on=accepted_on,
        limit_days=limit_days,
        suspensions=suspensions,
        today=today,
        stopped=stopped,
    )


# --- National Day 2025: 10月1日至8日 off, 9月28日（周日）、10月11日（周六）上班 ---------------


@pytest.mark.parametrize(
    ("today", "used", "state"),
    [
        (D(2025, 9, 30), 0, GREEN),  # the day of acceptance is day 0
        (D(2025, 10, 5), 0, GREEN),  # the holiday uses nothing
        (D(2025, 10, 9), 1, GREEN),
        (D(2025, 10, 11), 3, GREEN),  # the Saturday make-up day counts
        (D(2025, 10, 12), 3, GREEN),
        (D(2025, 10, 13), 4, YELLOW),  # 4 of 5 used: 80 %
        (D(2025, 10, 14), 5, YELLOW),  # the last day allowed
        (D(2025, 10, 15), 6, RED),
        (D(2025, 10, 18), 8, RED),  # a Saturday: nothing more used
    ],
)
def test_a_case_accepted_before_national_day_is_due_after_it(
    today: dt.date, used: int, state: ClockState
) -> None:
    reading = read(D(2025, 9, 30), 5, today)
    assert reading == ClockReading(
        due_on=D(2025, 10, 14),
        working_days_used=used,
        working_days_left=5 - used,
        state=state,
        provisional=False,
        suspended=False,
    )


def test_a_suspension_covering_working_days_around_the_holiday_pushes_the_due_date() -> None:
    # accepted Friday 26 September 2025, 5 days: 9-28 (Sun), 9-29, 9-30, 10-9, 10-10
    assert read(D(2025, 9, 26), 5, D(2025, 9, 26)).due_on == D(2025, 10, 10)
    # suspended from 29 September to 10 October: 9-30, 10-9 and 10-10 do not count
    expert_review = Suspension(D(2025, 9, 29), D(2025, 10, 10))
    reading = read(D(2025, 9, 26), 5, D(2025, 10, 13), expert_review)
    assert reading.due_on == D(2025, 10, 14)  # 10-11 (Sat), 10-13, 10-14
    assert (reading.working_days_used, reading.working_days_left) == (4, 1)
    assert (reading.state, reading.suspended) == (YELLOW, False)
    # the same as three more working days from acceptance
    assert reading.due_on == CAL.add_working_days(D(2025, 9, 26), 5 + 3)


def test_a_suspension_inside_the_holiday_covers_no_working_day() -> None:
    inside = Suspension(D(2025, 9, 30), D(2025, 10, 8))
    reading = read(D(2025, 9, 26), 5, D(2025, 10, 9), inside)
    assert reading.due_on == D(2025, 10, 10)
    assert reading.working_days_used == 4  # 9-28, 9-29, 9-30, 10-9


def test_an_open_suspension_keeps_moving_the_due_date() -> None:
    supplement = Suspension(D(2025, 9, 29), None)
    on_13th = read(D(2025, 9, 26), 5, D(2025, 10, 13), supplement)
    # counted: 9-28 and 9-29; suspended since: 9-30, 10-9, 10-10, 10-11, 10-13
    assert (on_13th.due_on, on_13th.working_days_used, on_13th.working_days_left) == (
        D(2025, 10, 16),
        2,
        3,
    )
    assert (on_13th.state, on_13th.suspended) == (GREEN, True)
    on_14th = read(D(2025, 9, 26), 5, D(2025, 10, 14), supplement)
    assert (on_14th.due_on, on_14th.working_days_used) == (D(2025, 10, 17), 2)
    # the day it opens still counts
    assert read(D(2025, 9, 26), 5, D(2025, 9, 29), supplement).working_days_used == 2
    # ended on the 14th: the 14th was suspended, counting resumes on the 15th
    ended = Suspension(D(2025, 9, 29), D(2025, 10, 14))
    after = read(D(2025, 9, 26), 5, D(2025, 10, 15), ended)
    assert (after.due_on, after.working_days_used, after.suspended) == (D(2025, 10, 17), 3, False)


def test_overlapping_suspensions_count_once() -> None:
    first = Suspension(D(2025, 3, 4), D(2025, 3, 7))  # Wed..Fri: 3 working days
    second = Suspension(D(2025, 3, 6), D(2025, 3, 11))  # Fri, Mon, Tue
    reading = read(D(2025, 3, 3), 5, D(2025, 3, 20), first, second)
    # suspended: 3-5, 3-6, 3-7, 3-10, 3-11 (5 days) -> 5 + 5 working days after acceptance
    assert reading.due_on == CAL.add_working_days(D(2025, 3, 3), 10) == D(2025, 3, 17)
    assert reading.working_days_used == CAL.working_days_between(D(2025, 3, 3), D(2025, 3, 20)) - 5


def test_a_suspension_before_acceptance_only_counts_from_acceptance() -> None:
    early = Suspension(D(2025, 2, 27), D(2025, 3, 4))
    reading = read(D(2025, 3, 3), 5, D(2025, 3, 3), early)
    assert reading.due_on == D(2025, 3, 11)  # 3-4 suspended: 3-5 .. 3-11
    assert read(
        D(2025, 3, 3), 5, D(2025, 3, 3), Suspension(D(2025, 2, 20), D(2025, 2, 27))
    ) == read(D(2025, 3, 3), 5, D(2025, 3, 3))


def test_a_suspension_after_the_case_fell_due_does_not_revive_it() -> None:
    late = Suspension(D(2025, 10, 16), None)
    reading = read(D(2025, 9, 30), 5, D(2025, 10, 20), late)
    assert (reading.due_on, reading.state, reading.suspended) == (D(2025, 10, 14), RED, True)
    assert reading.working_days_used == 7  # 10-9 .. 10-16; the days since are suspended
    # one starting on the due day: that day still counts, the due date stays
    on_due_day = Suspension(D(2025, 10, 14), None)
    assert read(D(2025, 9, 30), 5, D(2025, 10, 20), on_due_day).due_on == D(2025, 10, 14)


# --- 2026: Spring Festival 2月15日至23日 off, 2月14日、2月28日（周六）上班;
#           中秋 9月25日至27日, 国庆 10月1日至7日 off, 9月20日（周日）、10月10日（周六）上班


@pytest.mark.parametrize(
    ("accepted_on", "limit_days", "due_on"),
    [
        (D(2026, 2, 12), 3, D(2026, 2, 24)),  # 2-13, 2-14 (Sat), then after the festival
        (D(2026, 2, 24), 4, D(2026, 2, 28)),  # 2-25, 2-26, 2-27, 2-28 (Sat)
        (D(2026, 9, 18), 5, D(2026, 9, 24)),  # 9-20 (Sun), 9-21 .. 9-24
        (D(2026, 9, 24), 3, D(2026, 9, 30)),  # 9-25 is 中秋: 9-28, 9-29, 9-30
        (D(2026, 9, 30), 3, D(2026, 10, 10)),  # 10-8, 10-9, 10-10 (Sat)
        # the statutory 20 days: 10-8 .. 10-10, then 17 plain working days
        (D(2026, 9, 30), 20, D(2026, 11, 3)),
    ],
)
def test_due_dates_through_2026(accepted_on: dt.date, limit_days: int, due_on: dt.date) -> None:
    reading = read(accepted_on, limit_days, accepted_on)
    assert (reading.due_on, reading.state, reading.provisional) == (due_on, GREEN, False)


# --- states --------------------------------------------------------------------------------


def test_not_accepted_yet_is_stopped() -> None:
    assert read(None, 5, D(2025, 10, 9)) == ClockReading(
        due_on=None,
        working_days_used=0,
        working_days_left=5,
        state=STOPPED,
        provisional=False,
        suspended=False,
    )


def test_a_decided_case_is_stopped_with_its_numbers() -> None:
    reading = read(D(2025, 9, 30), 5, D(2025, 10, 15), stopped=True)
    assert (reading.state, reading.due_on, reading.working_days_used) == (
        STOPPED,
        D(2025, 10, 14),
        6,
    )


def test_yellow_share_is_a_parameter() -> None:
    def state(share: float) -> ClockState:
        return read_clock(
            calendar=CAL,
            accepted_on=D(2025, 3, 3),
            limit_days=10,
            suspensions=[],
            today=D(2025, 3, 10),  # 5 used
            yellow_share=share,
        ).state

    assert (state(0.8), state(0.5)) == (GREEN, YELLOW)


def test_an_immediate_matter_is_due_on_the_acceptance_day() -> None:
    same_day = read(D(2025, 9, 30), 0, D(2025, 9, 30))
    assert (same_day.due_on, same_day.working_days_left, same_day.state) == (
        D(2025, 9, 30),
        0,
        YELLOW,
    )
    next_day = read(D(2025, 9, 30), 0, D(2025, 10, 9))
    assert (next_day.state, next_day.working_days_left) == (RED, -1)
    # accepted on a holiday (online): still that day
    assert read(D(2025, 10, 3), 0, D(2025, 10, 3)).due_on == D(2025, 10, 3)


def test_an_override_holiday_moves_the_due_date() -> None:
    closed = WorkCalendar({D(2025, 10, 13): (False, "临时闭馆")})
    reading = read(D(2025, 9, 30), 5, D(2025, 10, 14), calendar=closed)
    assert (reading.due_on, reading.working_days_used, reading.state) == (
        D(2025, 10, 15),
        4,
        YELLOW,
    )


def test_a_year_nobody_knows_makes_the_reading_provisional() -> None:
    # accepted Monday 28 December 2026; 2027 is counted Monday to Friday
    reading = read(D(2026, 12, 28), 5, D(2026, 12, 28))
    assert (reading.due_on, reading.provisional) == (D(2027, 1, 4), True)  # 1 January counted
    # once 2027 is imported (made-up test data: only 1 January, which is certain)
    known = WorkCalendar({D(2027, 1, 1): (False, "元旦")}, {2027})
    reading = read(D(2026, 12, 28), 5, D(2026, 12, 28), calendar=known)
    assert (reading.due_on, reading.provisional) == (D(2027, 1, 5), False)
    # a 3-day case accepted the same day ends in 2026: nothing provisional on its way
    assert not read(D(2026, 12, 28), 3, D(2026, 12, 28)).provisional
    # ...until today itself is in 2027
    assert read(D(2026, 12, 28), 3, D(2027, 1, 6)).provisional


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        Suspension(D(2025, 3, 5), D(2025, 3, 4))
    with pytest.raises(ValueError):
        read(D(2025, 3, 3), -1, D(2025, 3, 3))


# --- the deadlines around acceptance --------------------------------------------------------


def test_deadlines_around_acceptance() -> None:
    # received on Friday 26 September 2025: 9-28 (Sun), 9-29, 9-30
    assert deemed_acceptance_deadline(CAL, D(2025, 9, 26)) == D(2025, 9, 30)
    assert supplement_notice_deadline(CAL, D(2025, 9, 26)) == D(2025, 9, 30)
    # received on the last day before the holiday: three working days after it
    assert deemed_acceptance_deadline(CAL, D(2025, 9, 30)) == D(2025, 10, 11)
    # delivered on the eve of the Spring Festival 2025: archived after it
    assert archive_due(CAL, D(2025, 1, 27)) == D(2025, 2, 5)
    assert archive_due(CAL, D(2026, 2, 13)) == D(2026, 2, 14)  # a Saturday make-up day
    assert archive_due(CAL, D(2025, 10, 10)) == D(2025, 10, 11)
