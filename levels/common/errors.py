"""Typed domain errors.

Every expected failure carries a stable ``code`` (clients switch on it), the input
``field`` it concerns, and a message in Chinese (default) and English. Resolvers turn
them into payload ``errors`` for mutations, and into GraphQL errors with
``extensions.code`` for queries.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol


class ErrorCode(enum.Enum):
    INVALID_DIVISION_CODE = "INVALID_DIVISION_CODE"
    DIVISION_NOT_FOUND = "DIVISION_NOT_FOUND"
    INVALID_ORG_CODE = "INVALID_ORG_CODE"
    ORG_NOT_FOUND = "ORG_NOT_FOUND"
    INVALID_BASIC_CODE = "INVALID_BASIC_CODE"
    MATTER_NOT_FOUND = "MATTER_NOT_FOUND"
    INVALID_IMPLEMENTATION_CODE = "INVALID_IMPLEMENTATION_CODE"
    IMPLEMENTATION_NOT_FOUND = "IMPLEMENTATION_NOT_FOUND"
    PROMISED_LIMIT_TOO_LONG = "PROMISED_LIMIT_TOO_LONG"
    INVALID_TIME_LIMIT = "INVALID_TIME_LIMIT"
    INVALID_MAX_VISITS = "INVALID_MAX_VISITS"
    LEVEL_MISMATCH = "LEVEL_MISMATCH"
    PAGE_SIZE_TOO_LARGE = "PAGE_SIZE_TOO_LARGE"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_ID = "INVALID_ID"
    LEGACY_ID_AMBIGUOUS = "LEGACY_ID_AMBIGUOUS"
    INVALID_DATE_RANGE = "INVALID_DATE_RANGE"
    NODE_UNAVAILABLE = "NODE_UNAVAILABLE"
    DIVISION_NOT_OWNED = "DIVISION_NOT_OWNED"
    # a request GraphQL refuses before running it (Apollo's names, which clients know)
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_USER_INPUT = "BAD_USER_INPUT"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.INVALID_DIVISION_CODE: (
        "区划代码应为12位数字，且符合市/县/乡/村的层级规则",
        "A division code is 12 digits following the city/county/town/village rules",
    ),
    ErrorCode.DIVISION_NOT_FOUND: ("未找到该行政区划", "No such division"),
    ErrorCode.INVALID_ORG_CODE: (
        "统一社会信用代码格式或校验位错误",
        "The unified social credit code is malformed or fails its checksum",
    ),
    ErrorCode.ORG_NOT_FOUND: ("未找到该服务机构", "No such service organisation"),
    ErrorCode.INVALID_BASIC_CODE: (
        "事项基本编码应为12位字母或数字",
        "A matter basic code is 12 letters or digits",
    ),
    ErrorCode.MATTER_NOT_FOUND: ("未找到该事项", "No such matter"),
    ErrorCode.INVALID_IMPLEMENTATION_CODE: (
        "实施编码格式错误",
        "The implementation code is malformed",
    ),
    ErrorCode.IMPLEMENTATION_NOT_FOUND: ("未找到该实施清单事项", "No such matter implementation"),
    ErrorCode.PROMISED_LIMIT_TOO_LONG: (
        "承诺时限不得超过法定时限的50%，除非登记例外理由",
        "The promised limit may not exceed 50% of the legal limit without an exception reason",
    ),
    ErrorCode.INVALID_TIME_LIMIT: (
        "时限必须为非负整数工作日",
        "A time limit is a whole number of working days, not negative",
    ),
    ErrorCode.INVALID_MAX_VISITS: (
        "最多跑动次数必须为非负整数",
        "maxVisits must be a non-negative integer",
    ),
    ErrorCode.LEVEL_MISMATCH: ("层级不符", "The level does not match"),
    ErrorCode.PAGE_SIZE_TOO_LARGE: ("每页最多100条", "A page holds at most 100 items"),
    ErrorCode.INVALID_PAGE_SIZE: (
        "每页条数必须为正整数",
        "The page size must be a positive integer",
    ),
    ErrorCode.INVALID_CURSOR: ("分页游标无效", "The pagination cursor is not valid"),
    ErrorCode.INVALID_ID: ("全局ID无效", "The global ID is not valid"),
    ErrorCode.LEGACY_ID_AMBIGUOUS: (
        "该ID为上一版本的格式，其编号在多个节点各指一条记录，无法确定；请使用该记录的当前ID",
        "This ID of the previous release names a row number that several nodes give; "
        "use the row's current ID",
    ),
    ErrorCode.INVALID_DATE_RANGE: (
        "日期超出本系统保存的范围",
        "The date is outside the days the hub keeps",
    ),
    ErrorCode.NODE_UNAVAILABLE: (
        "该层级节点暂不可用，返回部分数据",
        "A level node is unavailable; data is partial",
    ),
    ErrorCode.DIVISION_NOT_OWNED: (
        "该行政区划不属于本节点，请向其所属节点查询",
        "This node does not own the division; ask the node that owns it",
    ),
    ErrorCode.GRAPHQL_PARSE_FAILED: ("GraphQL 文档无法解析", "The GraphQL document does not parse"),
    ErrorCode.GRAPHQL_VALIDATION_FAILED: (
        "GraphQL 文档不符合接口定义",
        "The GraphQL document does not match the schema",
    ),
    ErrorCode.BAD_USER_INPUT: ("变量值无效", "A variable's value is not valid"),
}


class Code(Protocol):
    """An error code of some domain: a string enum member that knows its messages
    (Chinese, English). Each domain keeps its codes in its own ``errors.py``."""

    @property
    def value(self) -> str: ...

    def messages(self) -> tuple[str, str]: ...


def message_for(code: Code, locale: str = "zh") -> str:
    zh, en = code.messages()
    return en if locale == "en" else zh


class DomainError(Exception):
    """An expected failure of the domain: bad input, wrong state, wrong level."""

    def __init__(
        self,
        code: Code,
        *,
        field: Sequence[str] | None = None,
        detail: str | None = None,
    ) -> None:
        self.code = code
        self.field = list(field) if field else None
        self.detail = detail
        super().__init__(f"{code.value}{': ' + detail if detail else ''}")

    def localized(self, locale: str = "zh") -> str:
        base = message_for(self.code, locale)
        if not self.detail:
            return base
        return f"{base} ({self.detail})" if locale == "en" else f"{base}（{self.detail}）"
