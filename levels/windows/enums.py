"""Enumerations of windows at work, the queue and appointments, exposed in the API."""

from __future__ import annotations

import enum


class DayKind(enum.Enum):
    """What kind of day it is for opening hours (from the node's working-day calendar)."""

    WORKDAY = "WORKDAY"  # a working day, make-up working days (调休上班) included
    WEEKEND = "WEEKEND"  # a plain Saturday or Sunday
    HOLIDAY = "HOLIDAY"  # an official holiday (法定节假日), closed unless a window serves


class PostSide(enum.Enum):
    """AB角: the A post holds the window; the B post takes over when A is away."""

    A = "A"
    B = "B"


class KioskFunction(enum.Enum):
    """What a self-service kiosk (自助服务一体机) can do."""

    TAKE_TICKET = "TAKE_TICKET"  # 取号
    APPOINTMENT_CHECK_IN = "APPOINTMENT_CHECK_IN"  # 预约签到
    CASE_PROGRESS = "CASE_PROGRESS"  # 办件查询
    ONLINE_APPLICATION = "ONLINE_APPLICATION"  # 自助申报
    RESULT_PRINT = "RESULT_PRINT"  # 证照打印


class TicketChannel(enum.Enum):
    COUNTER = "COUNTER"  # handed out at the front desk by staff, for a walk-in
    KIOSK = "KIOSK"  # taken at a kiosk (signed in there)
    MOBILE = "MOBILE"  # taken in the app (or on the web portal)


class TicketStatus(enum.Enum):
    WAITING = "WAITING"  # in the queue (also after a transfer: see levels/windows/queue.py)
    CALLED = "CALLED"  # called to a window (叫号)
    SERVING = "SERVING"  # the person is at the window
    DONE = "DONE"  # served (办结 or consulted), maybe linked to the case it led to
    NO_SHOW = "NO_SHOW"  # called, did not come (过号)
    CANCELLED = "CANCELLED"  # given up by its holder while waiting


OPEN_TICKET = frozenset({TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING})
AT_WINDOW = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})


class AppointmentStatus(enum.Enum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"  # 签到: it became a ticket with priority


# audited with the case a ticket led to, but not a step of that case (its timeline)
FINISH_TICKET = "FINISH_TICKET"
CASE_LINKED_ACTIONS = (FINISH_TICKET,)
