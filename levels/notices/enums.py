from __future__ import annotations

import enum


class NoticeKind(enum.Enum):
    """The written notices of the seeds (000 四.三.1–2; 001 收件; 002 受理告知书)."""

    RECEIPT = "RECEIPT"  # 收件通知书
    VILLAGE_RECEIPT = "VILLAGE_RECEIPT"  # 受理告知书 of a village station: two parts
    SUPPLEMENT = "SUPPLEMENT"  # 一次性告知通知书
    ACCEPTANCE = "ACCEPTANCE"  # 决定受理通知书
    REJECTION = "REJECTION"  # 不予受理通知书
    SPECIAL_PROCEDURE = "SPECIAL_PROCEDURE"  # 特殊环节通知书
    DENIAL = "DENIAL"  # 不予许可决定书


TITLES = {
    NoticeKind.RECEIPT: "收件通知书",
    NoticeKind.VILLAGE_RECEIPT: "受理告知书",
    NoticeKind.SUPPLEMENT: "一次性告知通知书",
    NoticeKind.ACCEPTANCE: "决定受理通知书",
    NoticeKind.REJECTION: "不予受理通知书",
    NoticeKind.SPECIAL_PROCEDURE: "特殊环节通知书",
    NoticeKind.DENIAL: "不予许可决定书",
}


class NoticeRefusal(enum.Enum):
    """Why a presented notice does not verify."""

    MALFORMED = "MALFORMED"  # not a signed token at all
    NOT_A_NOTICE = "NOT_A_NOTICE"  # signed, but not as a notice
    UNKNOWN_KEY = "UNKNOWN_KEY"  # no key of this hub signed it
    BAD_SIGNATURE = "BAD_SIGNATURE"  # altered, or forged
    KEY_NOT_OF_ISSUER = "KEY_NOT_OF_ISSUER"  # signed by another org than it names
    NOT_ON_RECORD = "NOT_ON_RECORD"  # online: the issuing store keeps no such notice
