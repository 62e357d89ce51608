"""Error codes of 好差评 and complaints: payload errors of their mutations."""

from __future__ import annotations

import enum


class EvaluationErrorCode(enum.Enum):
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    NOT_THE_APPLICANT = "NOT_THE_APPLICANT"
    NO_RESULT_YET = "NO_RESULT_YET"
    ALREADY_RATED = "ALREADY_RATED"
    CHANNEL_REQUIRED = "CHANNEL_REQUIRED"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    TEXT_REQUIRED = "TEXT_REQUIRED"
    RATING_NOT_FOUND = "RATING_NOT_FOUND"
    RECTIFICATION_NOT_FOUND = "RECTIFICATION_NOT_FOUND"
    RECTIFICATION_CLOSED = "RECTIFICATION_CLOSED"
    CALLBACK_REQUIRED = "CALLBACK_REQUIRED"
    NOT_A_BAD_RATING = "NOT_A_BAD_RATING"
    ALREADY_APPEALED = "ALREADY_APPEALED"
    NO_PENDING_APPEAL = "NO_PENDING_APPEAL"
    NOT_AT_THIS_ORG = "NOT_AT_THIS_ORG"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    COMPLAINT_TARGET_REQUIRED = "COMPLAINT_TARGET_REQUIRED"
    COMPLAINT_NOT_FOUND = "COMPLAINT_NOT_FOUND"
    COMPLAINT_NOT_HANDLED = "COMPLAINT_NOT_HANDLED"
    COMPLAINT_ALREADY_HANDLED = "COMPLAINT_ALREADY_HANDLED"
    NOT_THE_COMPLAINANT = "NOT_THE_COMPLAINANT"
    SATISFACTION_GIVEN = "SATISFACTION_GIVEN"
    WINDOW_NOT_FOUND = "WINDOW_NOT_FOUND"
    STAFF_NOT_FOUND = "STAFF_NOT_FOUND"
    TARGETS_DISAGREE = "TARGETS_DISAGREE"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


E = EvaluationErrorCode
_MESSAGES: dict[EvaluationErrorCode, tuple[str, str]] = {
    E.CASE_NOT_FOUND: ("未找到该办件", "No such case"),
    E.NOT_THE_APPLICANT: ("只有申请人可以评价该办件", "Only the applicant rates the case"),
    E.NO_RESULT_YET: ("办件尚未办结，暂不能评价", "The case has no result yet"),
    E.ALREADY_RATED: ("该渠道已评价过此办件", "The case was already rated on this channel"),
    E.CHANNEL_REQUIRED: ("无法确定评价渠道", "The rating's channel is unknown"),
    E.TEXT_TOO_LONG: ("文字过长", "The text is too long"),
    E.TEXT_REQUIRED: ("须填写内容", "Fill in the text"),
    E.RATING_NOT_FOUND: ("未找到该评价", "No such rating"),
    E.RECTIFICATION_NOT_FOUND: ("未找到该整改", "No such rectification"),
    E.RECTIFICATION_CLOSED: ("该整改已结束", "The rectification is closed"),
    E.CALLBACK_REQUIRED: ("须先回访申请人", "Call the applicant back first"),
    E.NOT_A_BAD_RATING: ("只能对差评申诉", "Only a bad rating is appealed"),
    E.ALREADY_APPEALED: ("该评价已申诉过", "The rating was already appealed"),
    E.NO_PENDING_APPEAL: ("该评价没有待审核的申诉", "The rating has no pending appeal"),
    E.NOT_AT_THIS_ORG: ("不是本机构的办件", "Not a case of your org"),
    E.ROLE_NOT_ALLOWED: ("当前岗位不能执行该操作", "Your post does not allow this"),
    E.COMPLAINT_TARGET_REQUIRED: (
        "须指明投诉的办件、窗口或工作人员",
        "Name the case, window or staff member complained about",
    ),
    E.COMPLAINT_NOT_FOUND: ("未找到该投诉", "No such complaint"),
    E.COMPLAINT_NOT_HANDLED: ("投诉尚未处理", "The complaint is not handled yet"),
    E.COMPLAINT_ALREADY_HANDLED: ("投诉已处理", "The complaint is already handled"),
    E.NOT_THE_COMPLAINANT: ("只有投诉人可以评价处理结果", "Only the complainant rates it"),
    E.SATISFACTION_GIVEN: ("已评价过处理结果", "The handling was already rated"),
    E.WINDOW_NOT_FOUND: ("未找到该窗口", "No such window"),
    E.STAFF_NOT_FOUND: ("未找到该工作人员", "No such staff member"),
    E.TARGETS_DISAGREE: (
        "投诉的窗口或工作人员不属于该办件的机构",
        "The window or staff member is not of the case's org",
    ),
}
