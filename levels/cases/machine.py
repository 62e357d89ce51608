"""The state machine of a case (DESIGN §3, the seeds' 办理流程): which step may be
taken from which status, and where it leads. Who may take a step is the policy
table's business (``auth/policy.py``); this module knows only statuses."""

from __future__ import annotations

import enum

from levels.cases.enums import FINAL_STATUSES, CaseStatus, Decision
from levels.cases.errors import CaseErrorCode
from levels.common.errors import DomainError

S = CaseStatus


class Step(enum.Enum):
    SUBMIT = "SUBMIT"  # 收件
    COMPLETE = "COMPLETE"  # 当场办结 (immediate matters)
    NOTIFY_SUPPLEMENT = "NOTIFY_SUPPLEMENT"  # 一次性告知
    SUPPLEMENT = "SUPPLEMENT"  # 补正
    ACCEPT = "ACCEPT"  # 受理
    DEEM_ACCEPTED = "DEEM_ACCEPTED"  # no notice within 3 working days (timer)
    PROPOSE_REJECTION = "PROPOSE_REJECTION"  # the window proposes 不予受理
    DECLINE_REJECTION = "DECLINE_REJECTION"  # a second person turns the proposal down
    REJECT = "REJECT"  # 不予受理, once a second person approves the proposal
    CORRECT_ON_SPOT = "CORRECT_ON_SPOT"  # 当场更正, then 受理 (clock from receipt)
    START_REVIEW = "START_REVIEW"  # 审查
    START_SPECIAL = "START_SPECIAL"  # 特殊环节 begins (clock suspended)
    FINISH_SPECIAL = "FINISH_SPECIAL"
    DECIDE = "DECIDE"  # 准予 / 不予许可
    DELIVER = "DELIVER"  # 送达
    ARCHIVE = "ARCHIVE"  # 归档
    WITHDRAW = "WITHDRAW"  # 撤回 (applicant)
    CLOSE_UNSUPPLEMENTED = "CLOSE_UNSUPPLEMENTED"  # 补正 deadline passed (timer)
    LAPSE_TOLERANCE = "LAPSE_TOLERANCE"  # 容缺 material not handed in by the date (timer)


# open: not yet decided, so the applicant may still withdraw
OPEN_STATUSES = frozenset(
    {S.SUBMITTED, S.AWAITING_SUPPLEMENT, S.ACCEPTED, S.UNDER_REVIEW, S.SPECIAL_PROCEDURE}
)

TRANSITIONS: dict[Step, tuple[frozenset[CaseStatus], CaseStatus | None]] = {
    Step.COMPLETE: (frozenset({S.SUBMITTED}), S.COMPLETED),
    Step.NOTIFY_SUPPLEMENT: (frozenset({S.SUBMITTED}), S.AWAITING_SUPPLEMENT),
    Step.SUPPLEMENT: (frozenset({S.AWAITING_SUPPLEMENT}), S.ACCEPTED),
    Step.ACCEPT: (frozenset({S.SUBMITTED}), S.ACCEPTED),
    Step.DEEM_ACCEPTED: (frozenset({S.SUBMITTED}), S.ACCEPTED),
    Step.PROPOSE_REJECTION: (frozenset({S.SUBMITTED}), S.SUBMITTED),
    Step.DECLINE_REJECTION: (frozenset({S.SUBMITTED}), S.SUBMITTED),
    Step.REJECT: (frozenset({S.SUBMITTED}), S.REJECTED),
    Step.CORRECT_ON_SPOT: (frozenset({S.SUBMITTED}), S.ACCEPTED),
    Step.START_REVIEW: (frozenset({S.ACCEPTED}), S.UNDER_REVIEW),
    Step.START_SPECIAL: (frozenset({S.UNDER_REVIEW}), S.SPECIAL_PROCEDURE),
    Step.FINISH_SPECIAL: (frozenset({S.SPECIAL_PROCEDURE}), S.UNDER_REVIEW),
    Step.DECIDE: (frozenset({S.UNDER_REVIEW}), None),  # APPROVED or DENIED
    Step.DELIVER: (frozenset({S.APPROVED, S.ISSUED, S.DENIED}), S.DELIVERED),
    Step.ARCHIVE: (frozenset({S.DELIVERED}), S.ARCHIVED),
    Step.WITHDRAW: (OPEN_STATUSES, S.WITHDRAWN),
    Step.CLOSE_UNSUPPLEMENTED: (frozenset({S.AWAITING_SUPPLEMENT}), S.CLOSED_UNSUPPLEMENTED),
    Step.LAPSE_TOLERANCE: (OPEN_STATUSES, S.TERMINATED),
}


def next_status(step: Step, current: CaseStatus, decision: Decision | None = None) -> CaseStatus:
    """Where ``step`` leads from ``current``; INVALID_TRANSITION when it may not be
    taken from there."""
    allowed, target = TRANSITIONS[step]
    if current not in allowed:
        raise DomainError(
            CaseErrorCode.INVALID_TRANSITION, detail=f"{step.value} from {current.value}"
        )
    if target is not None:
        return target
    if decision is None:
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, field=["decision"])
    return S.APPROVED if decision is Decision.APPROVED else S.DENIED


def is_final(status: CaseStatus) -> bool:
    return status in FINAL_STATUSES


def clock_running(status: CaseStatus) -> bool:
    """The handling clock counts while the case is accepted and under review."""
    return status in {S.ACCEPTED, S.UNDER_REVIEW}
