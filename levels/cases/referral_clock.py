"""The referral deadline (转报时限, seed 000 衔接办理: the lower level "在上级行政机关规定
期限内完成代办转报"): a case received below the level that decides it — at a village
station, or at a town centre — must reach the deciding org within a number of working
days of its receipt at the first level. The deciding item sets the number
(``referral_limit_days``); an item that does not falls back on the hub's setting
(``Settings.referral_limit_days``, by default ``DEFAULT_REFERRAL_DAYS``).

The clock runs while the case is SUBMITTED below the deciding level — at the station,
and at a town that reviews first (初审): the whole way up counts, from the day the
resident handed the file in. It colours like any clock (``levels/cases/clocks.py``):
YELLOW once ``YELLOW_SHARE`` of the limit is used, RED after the due day; cards follow
(``levels/cases/due.py``). It stops when the case is referred on or closed; at the
deciding org the handling clock takes over. Nothing here touches a store (``where``
is the same colour as a condition for lists)."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import ColumnElement, and_

from levels.calendar.workdays import WorkCalendar
from levels.cases.clocks import YELLOW_SHARE
from levels.cases.enums import CaseStatus, ClockState
from levels.cases.models import Case
from levels.common.models import MatterImplementation
from levels.common.reads import ReadRow

DEFAULT_REFERRAL_DAYS = 5


def referral_limit(impl: MatterImplementation, default_days: int) -> int:
    """The working days a case of ``impl`` received below it has to reach it."""
    return impl.referral_limit_days if impl.referral_limit_days is not None else default_days


def start(case: Case, calendar: WorkCalendar, received_on: dt.date, limit_days: int) -> None:
    """Set the referral deadline of a case received below its deciding level."""
    case.referral_due_on = calendar.add_working_days(received_on, limit_days)
    case.referral_yellow_on = calendar.add_working_days(
        received_on, math.ceil(limit_days * YELLOW_SHARE)
    )


def running(case: Case | ReadRow) -> bool:
    """The referral clock runs: the case waits below its deciding level to go up."""
    return case.status is CaseStatus.SUBMITTED and case.referral_due_on is not None


def state(case: Case | ReadRow, today: dt.date) -> ClockState:
    """The referral clock's colour on ``today``."""
    if not running(case):
        return ClockState.STOPPED
    assert case.referral_due_on is not None
    if today > case.referral_due_on:
        return ClockState.RED
    if case.referral_yellow_on is not None and today >= case.referral_yellow_on:
        return ClockState.YELLOW
    return ClockState.GREEN


def where(wanted: ClockState, today: dt.date) -> ColumnElement[bool]:
    """Cases whose referral clock is ``wanted`` on ``today``, as ``state`` reads it."""
    waiting = Case.status == CaseStatus.SUBMITTED
    if wanted is ClockState.RED:
        return and_(waiting, Case.referral_due_on < today)
    if wanted is ClockState.YELLOW:
        return and_(waiting, Case.referral_due_on >= today, Case.referral_yellow_on <= today)
    if wanted is ClockState.GREEN:
        return and_(waiting, Case.referral_yellow_on > today)
    return and_(Case.referral_due_on.is_not(None), ~waiting)
