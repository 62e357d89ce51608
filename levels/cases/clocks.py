"""The case clock (办件计时): how many working days of its time limit a case has used,
when it is due, and its colour on the supervision board (红黄绿灯). Pure functions of
the working-day calendar and the case's dates; nothing here touches a store.

The rules, as the regulations count them (《行政许可法》: limits in working days,
第八十二条; periods not counted, 第四十五条):

* A time limit is counted in working days (工作日): weekends, statutory holidays and the
  days off of the State Council's yearly schedule do not count, make-up working days
  (调休上班) do. See ``levels.calendar.workdays``.
* The clock starts on the acceptance date (受理之日): that day is day 0, the first
  working day counted is the next one. A limit of N working days ends on the N-th
  working day after acceptance (``due_on``, the last day allowed), e.g. accepted on a
  Tuesday with 3 days: due on Friday.
* Periods the law excludes from the limit (补正, and the special procedures of
  第四十五条: hearings, tendering, auctions, testing, inspection, quarantine, expert
  review) suspend the clock. A suspension from S to E covers the working days in
  (S, E]: the day it starts still counts, the day it ends does not, and counting
  resumes the next working day. An open suspension covers up to today, so the due
  date moves on every working day it stays open. Each suspension pushes the due date
  by the working days it covers before the case falls due; overlapping suspensions
  count once, and a suspension begun after the case fell due does not revive its
  clock (the limit was exceeded already).
* An immediate matter (即办件, a limit of 0) is due on the acceptance day itself.
* Colours: STOPPED when the case is not accepted yet, or decided/closed (``stopped``);
  RED once today is after the due date; YELLOW once the days used reach
  ``yellow_share`` of the limit (80 %: the warning before the deadline); GREEN
  otherwise.
* A reading is ``provisional`` when a year between acceptance and the later of today
  and the due date has no known schedule yet (Monday to Friday was assumed): its due
  date may move once that year's schedule is imported.

The deadlines around acceptance, in the 3 working days this hub's service rules allow
(shorter than the law's 5 days, 《行政许可法》第三十二条): an application neither accepted
nor sent back with a notice of everything to supplement (一次性告知) within 3 working
days of receipt is deemed accepted (``deemed_acceptance_deadline``), so the notice of
supplement is due within the same 3 working days (``supplement_notice_deadline``); a
delivered case is archived the working day after delivery (``archive_due``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from levels.calendar.workdays import WorkCalendar
from levels.cases.enums import ClockState

DEEMED_ACCEPTANCE_DAYS = 3
SUPPLEMENT_NOTICE_DAYS = 3
ARCHIVE_DAYS = 1
YELLOW_SHARE = 0.8


@dataclass(frozen=True)
class Suspension:
    """A stretch the clock does not count: working days in (started_on, ended_on]."""

    started_on: dt.date
    ended_on: dt.date | None  # None: still suspended

    def __post_init__(self) -> None:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError(
                f"a suspension cannot end ({self.ended_on}) before it starts ({self.started_on})"
            )


@dataclass(frozen=True)
class ClockReading:
    due_on: dt.date | None  # last working day allowed
    working_days_used: int
    working_days_left: int  # negative when overdue
    state: ClockState  # GREEN / YELLOW / RED / STOPPED
    provisional: bool  # some year on the way is not known yet
    suspended: bool  # currently suspended


def _stretches(
    suspensions: Sequence[Suspension], *, accepted_on: dt.date, today: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The suspended stretches (start, end] after acceptance, sorted and merged."""
    spans = sorted(
        (max(s.started_on, accepted_on), s.ended_on if s.ended_on is not None else today)
        for s in suspensions
    )
    merged: list[tuple[dt.date, dt.date]] = []
    for start, end in spans:
        if end <= start:
            continue  # empty: ends before acceptance, or opened today or later
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _due_on(
    calendar: WorkCalendar,
    accepted_on: dt.date,
    limit_days: int,
    stretches: Sequence[tuple[dt.date, dt.date]],
) -> dt.date:
    """The day the ``limit_days``-th counted (not suspended) working day after
    acceptance falls on."""
    remaining = limit_days
    cursor = accepted_on
    for start, end in stretches:
        before = calendar.working_days_between(cursor, start)
        if before >= remaining:
            break  # due before this suspension starts (or on its first day)
        remaining -= before
        cursor = max(cursor, end)
    return calendar.add_working_days(cursor, remaining)


def _suspended_days(
    calendar: WorkCalendar, stretches: Sequence[tuple[dt.date, dt.date]], until: dt.date
) -> int:
    """Working days suspended up to ``until`` (included)."""
    return sum(calendar.working_days_between(start, min(end, until)) for start, end in stretches)


def deadline_state(due_on: dt.date, yellow_on: dt.date | None, today: dt.date) -> ClockState:
    """The colour of a running clock due on ``due_on`` that turns YELLOW on
    ``yellow_on``: RED once ``today`` is past the due day."""
    if today > due_on:
        return ClockState.RED
    if yellow_on is not None and today >= yellow_on:
        return ClockState.YELLOW
    return ClockState.GREEN


def read_clock(
    *,
    calendar: WorkCalendar,
    accepted_on: dt.date | None,
    limit_days: int,
    suspensions: Sequence[Suspension],
    today: dt.date,
    stopped: bool = False,
    yellow_share: float = YELLOW_SHARE,
) -> ClockReading:
    """The clock of a case on ``today`` (see the module's docstring for the rules).

    ``stopped`` (a decided or closed case) turns the state to STOPPED; the numbers are
    still those of ``today``, so pass the day the clock stopped to read them as they
    stood then. Before acceptance there is no due date, nothing is used, and the
    whole limit is left."""
    if limit_days < 0:
        raise ValueError(f"a time limit is a number of working days: {limit_days}")
    suspended = any(
        s.started_on <= today and (s.ended_on is None or s.ended_on > today) for s in suspensions
    )
    if accepted_on is None:
        return ClockReading(
            due_on=None,
            working_days_used=0,
            working_days_left=limit_days,
            state=ClockState.STOPPED,
            provisional=False,
            suspended=suspended,
        )
    stretches = _stretches(suspensions, accepted_on=accepted_on, today=today)
    due_on = _due_on(calendar, accepted_on, limit_days, stretches)
    used = calendar.working_days_between(accepted_on, today)
    if stretches:  # a suspended working day is never used, whenever it falls
        used -= _suspended_days(calendar, stretches, today)
    if stopped:
        state = ClockState.STOPPED
    elif today > due_on:
        state = ClockState.RED
    elif used >= yellow_share * limit_days:
        state = ClockState.YELLOW
    else:
        state = ClockState.GREEN
    return ClockReading(
        due_on=due_on,
        working_days_used=used,
        working_days_left=limit_days - used,
        state=state,
        provisional=calendar.provisional_between(accepted_on, max(due_on, today)),
        suspended=suspended,
    )


def deemed_acceptance_deadline(calendar: WorkCalendar, received_on: dt.date) -> dt.date:
    """The last day to accept an application or send it back with a notice of what to
    supplement: 3 working days after receipt; after it, the application is deemed
    accepted (受理) on receipt."""
    return calendar.add_working_days(received_on, DEEMED_ACCEPTANCE_DAYS)


def supplement_notice_deadline(calendar: WorkCalendar, received_on: dt.date) -> dt.date:
    """The last day to tell the applicant, once and in full, what to supplement
    (一次性告知补正): 3 working days after receipt."""
    return calendar.add_working_days(received_on, SUPPLEMENT_NOTICE_DAYS)


def archive_due(calendar: WorkCalendar, delivered_on: dt.date) -> dt.date:
    """The day a delivered case is to be archived: the working day after delivery."""
    return calendar.add_working_days(delivered_on, ARCHIVE_DAYS)
