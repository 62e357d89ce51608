"""Enumerations of 好差评 and complaints, exposed in the API."""

from __future__ import annotations

import enum


class RatingLevel(enum.Enum):
    VERY_SATISFIED = "VERY_SATISFIED"  # 非常满意
    SATISFIED = "SATISFIED"  # 满意
    BASIC = "BASIC"  # 基本满意
    DISSATISFIED = "DISSATISFIED"  # 不满意 (差评)
    VERY_DISSATISFIED = "VERY_DISSATISFIED"  # 非常不满意 (差评)


NEGATIVE = frozenset({RatingLevel.DISSATISFIED, RatingLevel.VERY_DISSATISFIED})


class RectificationStatus(enum.Enum):
    OPEN = "OPEN"  # 整改中
    COMPLETED = "COMPLETED"  # 已整改
    VOIDED = "VOIDED"  # the appeal was upheld: nothing to rectify


class AppealStatus(enum.Enum):
    PENDING = "PENDING"  # 申诉中
    UPHELD = "UPHELD"  # the rating was unfair: left out of the figures
    DISMISSED = "DISMISSED"  # the rating stands


class ComplaintStatus(enum.Enum):
    OPEN = "OPEN"
    HANDLED = "HANDLED"


class Satisfaction(enum.Enum):
    SATISFIED = "SATISFIED"
    DISSATISFIED = "DISSATISFIED"


class RollupDimension(enum.Enum):
    STAFF = "STAFF"
    WINDOW = "WINDOW"
    DEPARTMENT = "DEPARTMENT"
    ORG = "ORG"
    MATTER = "MATTER"


# the audit actions of 好差评 and complaints: events of a case's trail, never steps of
# its timeline (``levels.cases.service.NOT_STEPS``)
RECTIFICATION_OVERDUE = "RECTIFICATION_OVERDUE"
COMPLAINT_OVERDUE = "COMPLAINT_OVERDUE"
AUDIT_ACTIONS = (
    "RATE_CASE",
    "OPEN_RECTIFICATION",
    "RECORD_CALLBACK",
    "COMPLETE_RECTIFICATION",
    "APPEAL_RATING",
    "DECIDE_APPEAL",
    "FILE_COMPLAINT",
    "HANDLE_COMPLAINT",
    "RATE_COMPLAINT_HANDLING",
    RECTIFICATION_OVERDUE,
    COMPLAINT_OVERDUE,
)
