"""Error codes of the transport between stores: payload errors of ``retryMessage``."""

from __future__ import annotations

import enum


class MessageErrorCode(enum.Enum):
    MESSAGE_NOT_FOUND = "MESSAGE_NOT_FOUND"
    MESSAGE_NOT_FAILED = "MESSAGE_NOT_FAILED"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[MessageErrorCode, tuple[str, str]] = {
    MessageErrorCode.MESSAGE_NOT_FOUND: ("未找到该跨层级消息", "No such cross-level message"),
    MessageErrorCode.MESSAGE_NOT_FAILED: (
        "只有投递失败的消息可以重新投递或放弃",
        "Only a message that failed can be sent again or given up",
    ),
}
