"""Error codes of idempotent retries (the ``Idempotency-Key`` header)."""

from __future__ import annotations

import enum


class IdempotencyErrorCode(enum.Enum):
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_IN_PROGRESS = "IDEMPOTENCY_IN_PROGRESS"
    IDEMPOTENCY_RESULT_UNAVAILABLE = "IDEMPOTENCY_RESULT_UNAVAILABLE"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]

    @property
    def http_status(self) -> int:
        return _STATUS[self]


_MESSAGES: dict[IdempotencyErrorCode, tuple[str, str]] = {
    IdempotencyErrorCode.IDEMPOTENCY_KEY_INVALID: (
        "Idempotency-Key 请求头无效：应为1至255个可打印ASCII字符，且每个请求只含一个变更操作",
        "The Idempotency-Key header is not valid: 1 to 255 printable ASCII characters, "
        "for a request with one mutation",
    ),
    IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED: (
        "该 Idempotency-Key 已用于内容不同的请求",
        "This Idempotency-Key was already used for a request with other content",
    ),
    IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS: (
        "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
        "A request with this Idempotency-Key is still being processed; retry later",
    ),
    IdempotencyErrorCode.IDEMPOTENCY_RESULT_UNAVAILABLE: (
        "该请求已执行，但其响应未能保存；请按 reference 查询结果，勿用新的键重复提交",
        "The request was carried out but its response was not saved; read the result "
        "by its reference instead of sending it again under a new key",
    ),
}

_STATUS: dict[IdempotencyErrorCode, int] = {
    IdempotencyErrorCode.IDEMPOTENCY_KEY_INVALID: 400,
    IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS: 409,
    IdempotencyErrorCode.IDEMPOTENCY_RESULT_UNAVAILABLE: 409,
}
