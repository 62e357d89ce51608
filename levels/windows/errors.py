"""Error codes of windows, the queue and appointments: payload errors of their mutations."""

from __future__ import annotations

import enum


class WindowErrorCode(enum.Enum):
    WINDOW_NOT_FOUND = "WINDOW_NOT_FOUND"
    NOT_AT_THIS_ORG = "NOT_AT_THIS_ORG"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    STAFF_NOT_FOUND = "STAFF_NOT_FOUND"
    SAME_STAFF_ON_BOTH_POSTS = "SAME_STAFF_ON_BOTH_POSTS"
    NOT_NAMED_ON_POST = "NOT_NAMED_ON_POST"
    NOT_ON_POST = "NOT_ON_POST"
    A_POST_ON_DUTY = "A_POST_ON_DUTY"
    WINDOW_UNSTAFFED = "WINDOW_UNSTAFFED"
    WINDOW_BUSY = "WINDOW_BUSY"
    QUEUE_EMPTY = "QUEUE_EMPTY"
    WINDOW_TAKES_NO_TICKETS = "WINDOW_TAKES_NO_TICKETS"
    INVALID_HOURS = "INVALID_HOURS"
    INVALID_QUEUE_PREFIX = "INVALID_QUEUE_PREFIX"
    OUTSIDE_OPENING_HOURS = "OUTSIDE_OPENING_HOURS"
    TARGET_REQUIRED = "TARGET_REQUIRED"
    MATTER_NOT_SERVED = "MATTER_NOT_SERVED"
    ALREADY_IN_QUEUE = "ALREADY_IN_QUEUE"
    TICKET_NOT_FOUND = "TICKET_NOT_FOUND"
    INVALID_TICKET_STATE = "INVALID_TICKET_STATE"
    NOT_THIS_WINDOWS_TICKET = "NOT_THIS_WINDOWS_TICKET"
    RECALL_LIMIT = "RECALL_LIMIT"
    TRANSFER_TARGET_INVALID = "TRANSFER_TARGET_INVALID"
    NOT_THE_HOLDER = "NOT_THE_HOLDER"
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    INVALID_SLOT = "INVALID_SLOT"
    SLOT_NOT_FOUND = "SLOT_NOT_FOUND"
    SLOT_FULL = "SLOT_FULL"
    SLOT_PAST = "SLOT_PAST"
    ALREADY_BOOKED = "ALREADY_BOOKED"
    APPOINTMENT_NOT_FOUND = "APPOINTMENT_NOT_FOUND"
    APPOINTMENT_CLOSED = "APPOINTMENT_CLOSED"
    NOT_CHECK_IN_TIME = "NOT_CHECK_IN_TIME"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


E = WindowErrorCode
_MESSAGES: dict[WindowErrorCode, tuple[str, str]] = {
    E.WINDOW_NOT_FOUND: ("未找到该窗口", "No such window"),
    E.NOT_AT_THIS_ORG: ("不是本机构的窗口", "Not a window of your org"),
    E.ROLE_NOT_ALLOWED: ("当前身份不能执行该操作", "You may not do this"),
    E.STAFF_NOT_FOUND: ("未找到本机构的该工作人员", "No such staff member at this org"),
    E.SAME_STAFF_ON_BOTH_POSTS: ("A角和B角须为不同的人", "A and B posts need two people"),
    E.NOT_NAMED_ON_POST: ("您不是该窗口的A角或B角", "You hold neither post of this window"),
    E.NOT_ON_POST: ("您未在该窗口上岗", "You are not signed in on this window's post"),
    E.A_POST_ON_DUTY: ("A角在岗，由A角叫号", "The A post is on duty and calls"),
    E.WINDOW_UNSTAFFED: ("该窗口A角、B角均不在岗", "Nobody is on this window's posts"),
    E.WINDOW_BUSY: (
        "请先办结或标记过号当前号码",
        "Finish or mark as no-show the ticket at the window first",
    ),
    E.QUEUE_EMPTY: ("当前没有等候的号码", "Nobody is waiting"),
    E.WINDOW_TAKES_NO_TICKETS: ("该窗口不叫号", "This window takes no tickets"),
    E.INVALID_HOURS: ("办公时间无效", "The opening hours are not valid"),
    E.INVALID_QUEUE_PREFIX: ("号码字头应为1-2个字母", "A ticket prefix is one or two letters"),
    E.OUTSIDE_OPENING_HOURS: (
        "当前不在办公时间，请在办公时间取号或预约",
        "Outside opening hours: take a ticket when open, or book an appointment",
    ),
    E.TARGET_REQUIRED: ("须指明事项或窗口类型", "Name a matter or a window kind"),
    E.MATTER_NOT_SERVED: ("本机构没有办理该事项的窗口", "No window of this org serves the matter"),
    E.ALREADY_IN_QUEUE: ("您已在该队列中等候", "You are already waiting in this queue"),
    E.TICKET_NOT_FOUND: ("未找到该号码", "No such ticket"),
    E.INVALID_TICKET_STATE: (
        "该号码当前状态不允许此操作",
        "The ticket's state does not allow this",
    ),
    E.NOT_THIS_WINDOWS_TICKET: ("该号码不在本窗口", "The ticket is not at this window"),
    E.RECALL_LIMIT: ("过号只能重新呼叫一次", "A no-show is recalled once only"),
    E.TRANSFER_TARGET_INVALID: (
        "只能转到本机构另一个叫号窗口",
        "Transfer to another queueing window of the same org",
    ),
    E.NOT_THE_HOLDER: ("只能操作本人的号码或预约", "Only your own ticket or appointment"),
    E.CASE_NOT_FOUND: ("本机构没有该办件", "No such case at this org"),
    E.INVALID_SLOT: ("预约时段无效", "The appointment slot is not valid"),
    E.SLOT_NOT_FOUND: ("未找到该预约时段", "No such appointment slot"),
    E.SLOT_FULL: ("该时段已约满", "The slot is fully booked"),
    E.SLOT_PAST: ("该时段已过", "The slot is in the past"),
    E.ALREADY_BOOKED: ("您已预约该时段", "You already booked this slot"),
    E.APPOINTMENT_NOT_FOUND: ("未找到该预约", "No such appointment"),
    E.APPOINTMENT_CLOSED: ("该预约已取消或已签到", "The appointment is cancelled or checked in"),
    E.NOT_CHECK_IN_TIME: (
        "请在预约时段开始前30分钟至结束前签到",
        "Check in from 30 minutes before the slot until its end",
    ),
}
