"""Error codes of the village station's service modes: the mode a case is handled in,
its accompaniment and proxy fee, and home visits."""

from __future__ import annotations

import enum


class VillageErrorCode(enum.Enum):
    ACCOMPANIED_BY_REQUIRED = "ACCOMPANIED_BY_REQUIRED"
    ACCOMPANIED_BY_NOT_ACCOMPANIED = "ACCOMPANIED_BY_NOT_ACCOMPANIED"
    INVALID_FEE = "INVALID_FEE"
    FEE_ONLY_FOR_PROXY = "FEE_ONLY_FOR_PROXY"
    FEE_WAIVED = "FEE_WAIVED"
    AGE_UNKNOWN = "AGE_UNKNOWN"
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    NOT_A_HOME_VISIT = "NOT_A_HOME_VISIT"
    VISIT_IN_THE_FUTURE = "VISIT_IN_THE_FUTURE"
    VISIT_BEFORE_AUTHORIZATION = "VISIT_BEFORE_AUTHORIZATION"
    VISIT_ALREADY_RECORDED = "VISIT_ALREADY_RECORDED"
    STAFF_REQUIRED = "STAFF_REQUIRED"
    PLACE_REQUIRED = "PLACE_REQUIRED"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[VillageErrorCode, tuple[str, str]] = {
    VillageErrorCode.ACCOMPANIED_BY_REQUIRED: (
        "陪同办理须登记陪同人员",
        "An accompanied case names who accompanied the resident",
    ),
    VillageErrorCode.ACCOMPANIED_BY_NOT_ACCOMPANIED: (
        "只有陪同办理登记陪同人员",
        "Only an accompanied case names who accompanied",
    ),
    VillageErrorCode.INVALID_FEE: ("代办费用无效", "The proxy fee is not valid"),
    VillageErrorCode.FEE_ONLY_FOR_PROXY: (
        "即时办理不收取代办费用",
        "A case handled on the spot carries no proxy fee",
    ),
    VillageErrorCode.FEE_WAIVED: (
        "该群众享受免费代办，不得收取费用",
        "This resident is served free of charge (免费代办)",
    ),
    VillageErrorCode.AGE_UNKNOWN: (
        "收取代办费用前须核对申请人身份证号（年龄）",
        "Give the applicant's ID number (their age is checked) before charging a fee",
    ),
    VillageErrorCode.CASE_NOT_FOUND: ("本站未收此件", "The station received no such case"),
    VillageErrorCode.NOT_A_HOME_VISIT: (
        "该件不是上门办理，不能登记上门",
        "The case is not handled by home visit",
    ),
    VillageErrorCode.VISIT_IN_THE_FUTURE: (
        "上门日期不能晚于今天",
        "The visit cannot be later than today",
    ),
    VillageErrorCode.VISIT_BEFORE_AUTHORIZATION: (
        "上门日期早于群众授权之日",
        "The visit is before the resident authorized the station",
    ),
    VillageErrorCode.VISIT_ALREADY_RECORDED: (
        "该件当日的上门已登记",
        "That day's visit for the case is already recorded",
    ),
    VillageErrorCode.STAFF_REQUIRED: ("须登记上门人员", "Name who made the visit"),
    VillageErrorCode.PLACE_REQUIRED: ("须登记上门地点", "Name the place visited"),
    VillageErrorCode.TEXT_TOO_LONG: ("内容过长", "The text is too long"),
}
