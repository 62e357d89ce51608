"""Error codes of the supervision figures: GraphQL errors of the ``supervision`` query
(and one-line messages of ``govhub report monthly``)."""

from __future__ import annotations

import enum


class SupervisionErrorCode(enum.Enum):
    UNKNOWN_DIVISION = "UNKNOWN_DIVISION"
    INVALID_PERIOD = "INVALID_PERIOD"
    INVALID_MONTH = "INVALID_MONTH"
    NOT_A_TOWN_CENTRE = "NOT_A_TOWN_CENTRE"
    MONTH_NOT_OVER = "MONTH_NOT_OVER"
    ALREADY_FILED = "ALREADY_FILED"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[SupervisionErrorCode, tuple[str, str]] = {
    SupervisionErrorCode.UNKNOWN_DIVISION: ("未找到该行政区划", "No such division"),
    SupervisionErrorCode.INVALID_PERIOD: (
        "统计期间无效：起始日期不得晚于截止日期，且不得超过366天",
        "The period is not valid: from may not be after to, and it spans at most 366 days",
    ),
    SupervisionErrorCode.INVALID_MONTH: (
        "月份应为 YYYY-MM 格式",
        "A month is written YYYY-MM",
    ),
    SupervisionErrorCode.NOT_A_TOWN_CENTRE: (
        "只有乡镇便民服务中心（分中心）报送月报表",
        "Only a town centre (or branch centre) files a monthly report",
    ),
    SupervisionErrorCode.MONTH_NOT_OVER: (
        "该月尚未结束，不能报送月报表",
        "The month is not over yet",
    ),
    SupervisionErrorCode.ALREADY_FILED: (
        "该月月报表已报送备案",
        "That month's report is already filed",
    ),
}
