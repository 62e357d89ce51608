"""Enumerations of cases (办件), exposed in the API."""

from __future__ import annotations

import enum


class CaseStatus(enum.Enum):
    SUBMITTED = "SUBMITTED"  # 收件
    AWAITING_SUPPLEMENT = "AWAITING_SUPPLEMENT"  # 一次性告知, waiting for 补正
    ACCEPTED = "ACCEPTED"  # 受理
    UNDER_REVIEW = "UNDER_REVIEW"  # 审查
    SPECIAL_PROCEDURE = "SPECIAL_PROCEDURE"  # 特殊环节 (clock suspended)
    APPROVED = "APPROVED"  # 准予
    DENIED = "DENIED"  # 不予许可
    ISSUED = "ISSUED"  # 颁证
    DELIVERED = "DELIVERED"  # 送达
    ARCHIVED = "ARCHIVED"  # 归档
    COMPLETED = "COMPLETED"  # 当场办结 (immediate matters)
    REJECTED = "REJECTED"  # 不予受理
    REFERRED = "REFERRED"  # 转报 (held by the upper level)
    CLOSED_UNSUPPLEMENTED = "CLOSED_UNSUPPLEMENTED"  # 逾期未补正, 自动办结
    WITHDRAWN = "WITHDRAWN"  # 撤回
    TERMINATED = "TERMINATED"  # 终止办理: 容缺材料逾期未补, as the commitment stated


FINAL_STATUSES = frozenset(
    {
        CaseStatus.ARCHIVED,
        CaseStatus.TERMINATED,
        CaseStatus.COMPLETED,
        CaseStatus.REJECTED,
        CaseStatus.CLOSED_UNSUPPLEMENTED,
        CaseStatus.WITHDRAWN,
    }
)


class ApplicantKind(enum.Enum):
    PERSON = "PERSON"
    ENTERPRISE = "ENTERPRISE"


class MaterialSource(enum.Enum):
    FILE = "FILE"  # an uploaded file (reference)
    PAPER = "PAPER"  # a paper record handed in at a window
    LICENCE = "LICENCE"  # an e-licence of the library
    IDENTITY = "IDENTITY"  # the applicant's verified identity (居民身份证, 信息共享)


class MaterialState(enum.Enum):
    PROVIDED = "PROVIDED"
    MISSING = "MISSING"
    INCORRECT = "INCORRECT"
    TOLERATED = "TOLERATED"  # 容缺: promised for later


class RejectionReason(enum.Enum):
    NOT_REQUIRED = "NOT_REQUIRED"  # 依法不需要取得行政许可
    NOT_OUR_JURISDICTION = "NOT_OUR_JURISDICTION"  # 不属于本机关职权范围


class Decision(enum.Enum):
    APPROVED = "APPROVED"
    DENIED = "DENIED"


class SuspensionKind(enum.Enum):
    SUPPLEMENT = "SUPPLEMENT"
    SPECIAL_PROCEDURE = "SPECIAL_PROCEDURE"


class TimerKind(enum.Enum):
    DEEMED_ACCEPTANCE = "DEEMED_ACCEPTANCE"  # no notice within 3 working days
    SUPPLEMENT_DEADLINE = "SUPPLEMENT_DEADLINE"  # 补正 deadline
    PUSH_ACCEPTANCE = "PUSH_ACCEPTANCE"  # department takes a pushed case in 2 days
    ARCHIVE_DUE = "ARCHIVE_DUE"  # archive 1 working day after delivery
    # 容缺承诺: the promised date passed with the material outstanding — the applicant is
    # told, then the consequence the commitment states takes effect
    TOLERANCE_NOTICE = "TOLERANCE_NOTICE"
    TOLERANCE_LAPSE = "TOLERANCE_LAPSE"

    # 特殊环节 with its own limit: most of it used, then past it (电子监察)
    PROCEDURE_WARNING = "PROCEDURE_WARNING"
    PROCEDURE_DUE = "PROCEDURE_DUE"
    # 网上预审: the result is told within 2 working days of an online application
    PRE_REVIEW_WARNING = "PRE_REVIEW_WARNING"
    PRE_REVIEW_DUE = "PRE_REVIEW_DUE"


class ToleranceConsequence(enum.Enum):
    """容缺承诺: what follows when the tolerated material is not handed in by the date
    promised (001 "说明逾期的后果")."""

    TERMINATE = "TERMINATE"  # 终止办理
    REVOKE_ACCEPTANCE = "REVOKE_ACCEPTANCE"  # 撤销受理 (the case never counts as accepted)


class CardColor(enum.Enum):
    """电子监察: a yellow card warns that most of the limit is used, a red card records
    that the case is overdue."""

    YELLOW = "YELLOW"
    RED = "RED"


class CardClock(enum.Enum):
    """Which clock a card of electronic supervision was issued against."""

    HANDLING = "HANDLING"  # the promised limit, from acceptance
    REFERRAL = "REFERRAL"  # 转报时限, from receipt below the deciding level
    SPECIAL_PROCEDURE = "SPECIAL_PROCEDURE"  # a 特殊环节's own limit
    PRE_REVIEW = "PRE_REVIEW"  # 网上预审 within 2 working days


class PreReviewResult(enum.Enum):
    """网上预审: what the applicant is told of an online application."""

    PASSED = "PASSED"  # 预审通过
    INCOMPLETE = "INCOMPLETE"  # 预审未通过: what is missing or wrong is listed


class ClockState(enum.Enum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    STOPPED = "STOPPED"  # decided, closed, or not yet accepted
