"""Error codes of delegations (委托/下放): payload errors of delegateMatter and
revokeDelegation."""

from __future__ import annotations

import enum


class DelegationErrorCode(enum.Enum):
    NOT_HELD_BY_COUNTY = "NOT_HELD_BY_COUNTY"
    TOWN_NOT_IN_COUNTY = "TOWN_NOT_IN_COUNTY"
    LEGAL_INSTRUMENT_REQUIRED = "LEGAL_INSTRUMENT_REQUIRED"
    EFFECTIVE_DATE_PAST = "EFFECTIVE_DATE_PAST"
    ALREADY_DELEGATED = "ALREADY_DELEGATED"
    TOWN_DEPARTMENT_NOT_FOUND = "TOWN_DEPARTMENT_NOT_FOUND"
    DELEGATION_NOT_FOUND = "DELEGATION_NOT_FOUND"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    REASON_REQUIRED = "REASON_REQUIRED"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[DelegationErrorCode, tuple[str, str]] = {
    DelegationErrorCode.NOT_HELD_BY_COUNTY: (
        "只能委托本县（区）现行实施的县级事项",
        "Only a county item of your county, in force, can be delegated",
    ),
    DelegationErrorCode.TOWN_NOT_IN_COUNTY: (
        "只能委托给本县（区）所辖乡镇",
        "Delegate only to towns of the county",
    ),
    DelegationErrorCode.LEGAL_INSTRUMENT_REQUIRED: (
        "须注明委托或下放的法律文件",
        "Name the legal instrument of the delegation",
    ),
    DelegationErrorCode.EFFECTIVE_DATE_PAST: (
        "生效日期不能早于今天",
        "The effective date cannot be in the past",
    ),
    DelegationErrorCode.ALREADY_DELEGATED: (
        "该事项已委托给这些乡镇",
        "The item is already delegated to some of these towns",
    ),
    DelegationErrorCode.TOWN_DEPARTMENT_NOT_FOUND: (
        "受委托乡镇没有该承办科室",
        "A town the matter goes to has no such department",
    ),
    DelegationErrorCode.DELEGATION_NOT_FOUND: ("未找到该委托", "No such delegation of yours"),
    DelegationErrorCode.ALREADY_REVOKED: ("该委托已收回", "The delegation is already revoked"),
    DelegationErrorCode.REASON_REQUIRED: ("须说明收回理由", "Give the reason for revoking"),
    DelegationErrorCode.ROLE_NOT_ALLOWED: (
        "只有县级服务机构的管理员或科长可以委托或收回",
        "Only an admin or director of the county centre delegates or revokes",
    ),
}
