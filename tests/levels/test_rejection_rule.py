"""004 窗口无否决权, at the rule itself: whoever proposed a rejection never approves it,
whatever posts they hold; a second person does."""

from __future__ import annotations

import datetime as dt

import pytest

from levels.cases import rejection
from levels.cases.enums import CaseStatus, RejectionReason
from levels.cases.errors import CaseErrorCode
from levels.cases.models import Case
from levels.common.errors import DomainError

NOW = dt.datetime(2026, 11, 16, 2, tzinfo=dt.UTC)


def test_the_proposer_never_approves_their_own_rejection_004() -> None:
    case = Case(number="140702000000-20261116-00001", status=CaseStatus.SUBMITTED)
    rejection.propose(case, RejectionReason.NOT_REQUIRED, "", "staff-a", NOW)
    assert rejection.pending(case)
    with pytest.raises(DomainError) as refused:
        rejection.approve(case, "staff-a", NOW)
    assert refused.value.code is CaseErrorCode.SECOND_PERSON_REQUIRED
    assert case.closed_at is None and rejection.pending(case)

    detail = rejection.approve(case, "staff-b", NOW)
    assert detail == {"proposedBy": "staff-a", "reason": "NOT_REQUIRED"}
    assert case.closed_at == NOW


def test_a_rejection_for_another_authority_names_it_004() -> None:
    case = Case(number="140702000000-20261116-00002", status=CaseStatus.SUBMITTED)
    with pytest.raises(DomainError) as refused:
        rejection.propose(case, RejectionReason.NOT_OUR_JURISDICTION, "", "staff-a", NOW)
    assert refused.value.code is CaseErrorCode.AUTHORITY_REQUIRED
    assert not rejection.pending(case)
