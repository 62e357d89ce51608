"""Rules of the implementation list (实施清单): what a valid item looks like.

Pure functions, so the demo loader, a future publishing mutation and the tests share
one definition of "valid"."""

from __future__ import annotations

from dataclasses import dataclass

from levels.common.codes import make_implementation_code, validate_basic_code, validate_uscc
from levels.common.enums import HandlingKind, Level
from levels.common.errors import DomainError, ErrorCode
from levels.common.policy import LevelPolicy

# 承诺时限 may be at most this share of 法定时限 unless an exception reason is recorded
PROMISED_SHARE_LIMIT = 0.5


@dataclass(frozen=True)
class ImplementationDraft:
    org_code: str
    level: Level
    basic_code: str
    handling_kind: HandlingKind
    promised_time_limit_days: int
    promise_exception_reason: str | None
    max_visits: int
    delegated_from: str | None = None


def check_implementation(
    draft: ImplementationDraft, *, policy: LevelPolicy, legal_time_limit_days: int
) -> str:
    """Validate an implementation item against its catalogue matter and its level's
    policy; return its system-generated implementation code. Raises ``DomainError``
    naming the offending field."""
    validate_uscc(draft.org_code, field="orgCode")
    validate_basic_code(draft.basic_code, field="basicCode")
    if draft.level is not policy.level:
        raise DomainError(ErrorCode.LEVEL_MISMATCH, field=["level"], detail=draft.level.value)
    if draft.delegated_from is not None and not policy.takes_delegations:
        raise DomainError(
            ErrorCode.LEVEL_MISMATCH, field=["delegatedFrom"], detail=draft.level.value
        )
    if not policy.may_implement(draft.handling_kind):
        raise DomainError(
            ErrorCode.LEVEL_MISMATCH, field=["handlingKind"], detail=draft.handling_kind.value
        )
    days = draft.promised_time_limit_days
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise DomainError(ErrorCode.INVALID_TIME_LIMIT, field=["promisedTimeLimitDays"])
    if draft.handling_kind is HandlingKind.IMMEDIATE and days != 0:
        raise DomainError(
            ErrorCode.INVALID_TIME_LIMIT,
            field=["promisedTimeLimitDays"],
            detail="immediate matters are done on the spot",
        )
    if days > legal_time_limit_days * PROMISED_SHARE_LIMIT and not (
        draft.promise_exception_reason and draft.promise_exception_reason.strip()
    ):
        raise DomainError(
            ErrorCode.PROMISED_LIMIT_TOO_LONG,
            field=["promisedTimeLimitDays"],
            detail=f"{days} > {legal_time_limit_days} × 50%",
        )
    if not isinstance(draft.max_visits, int) or draft.max_visits < 0:
        raise DomainError(ErrorCode.INVALID_MAX_VISITS, field=["maxVisits"])
    return make_implementation_code(draft.org_code, draft.level, draft.basic_code)
