"""窗口无否决权 (004 "窗口工作人员…不能简单直接地说'不行'，其行使否决权必须得到批准，并给
申请人以合理解释和引导"): a window does not refuse an application on its own. The
receptionist proposes 不予受理 with its reason (and, when the matter is not the org's,
the authority to apply to: the guidance the applicant is owed); it takes effect only
when a second person — the department head (DIRECTOR) of the org — approves it
(``Step.REJECT``), never the proposer. Declined, the proposal is dropped and the case
is taken up as usual. While it waits the case stays SUBMITTED, and the 3-day deemed
acceptance still runs: a proposal nobody approved in time does not stop the clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from levels.cases.enums import CaseStatus, RejectionReason
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case
from levels.common.errors import DomainError
from levels.common.reads import ReadRow


def pending(case: Case | ReadRow) -> bool:
    """A proposal waits for a second person (once approved, the case is REJECTED and
    the proposal stays on it as the record of who proposed it)."""
    return case.status is CaseStatus.SUBMITTED and case.rejection_proposed_by is not None


def propose(
    case: Case,
    reason: RejectionReason | None,
    authority: str,
    proposer: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Record the receptionist's proposal; what the audit trail keeps of it."""
    if pending(case):
        raise DomainError(CaseErrorCode.REJECTION_PENDING, field=["input", "number"])
    if reason is None:
        raise DomainError(CaseErrorCode.INVALID_TRANSITION, field=["input", "reason"])
    if reason is RejectionReason.NOT_OUR_JURISDICTION and not authority:
        raise DomainError(CaseErrorCode.AUTHORITY_REQUIRED, field=["input", "authority"])
    case.rejection_reason = reason
    case.rejection_authority = authority or None
    case.rejection_proposed_by = proposer
    case.rejection_proposed_at = now
    return {"reason": reason.value, "authority": authority or None}


def approve(case: Case, approver: str, now: dt.datetime) -> dict[str, Any]:
    """The second person's approval: the proposal takes effect as it was made."""
    if not pending(case):
        raise DomainError(CaseErrorCode.NO_REJECTION_PROPOSED, field=["input", "number"])
    if case.rejection_proposed_by == approver:
        raise DomainError(CaseErrorCode.SECOND_PERSON_REQUIRED, field=["input", "number"])
    case.closed_at = now
    return {"proposedBy": case.rejection_proposed_by, "reason": _reason(case)}


def decline(case: Case) -> dict[str, Any]:
    """The proposal is turned down: dropped, and the case waits to be taken up."""
    if not pending(case):
        raise DomainError(CaseErrorCode.NO_REJECTION_PROPOSED, field=["input", "number"])
    detail = {"proposedBy": case.rejection_proposed_by, "reason": _reason(case)}
    clear(case)
    return detail


def clear(case: Case) -> None:
    """The case is taken up another way (accepted, noticed, withdrawn…): a proposal
    still waiting lapses."""
    case.rejection_reason = None
    case.rejection_authority = None
    case.rejection_proposed_by = None
    case.rejection_proposed_at = None


def _reason(case: Case) -> str | None:
    return case.rejection_reason.value if case.rejection_reason else None
