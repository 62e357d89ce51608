"""Error codes of e-licences: payload errors of the licence mutations, of decisions
that issue a licence, and of submissions that present one."""

from __future__ import annotations

import enum


class LicenceErrorCode(enum.Enum):
    INVALID_LICENCE_ID = "INVALID_LICENCE_ID"
    LICENCE_NOT_FOUND = "LICENCE_NOT_FOUND"
    LICENCE_NOT_VALID = "LICENCE_NOT_VALID"
    LICENCE_HOLDER_MISMATCH = "LICENCE_HOLDER_MISMATCH"
    LICENCE_TYPE_MISMATCH = "LICENCE_TYPE_MISMATCH"
    LICENCE_TYPE_UNKNOWN = "LICENCE_TYPE_UNKNOWN"
    LICENCE_FIELD_REQUIRED = "LICENCE_FIELD_REQUIRED"
    LICENCE_FIELD_UNKNOWN = "LICENCE_FIELD_UNKNOWN"
    LICENCE_FIELD_INVALID = "LICENCE_FIELD_INVALID"
    LICENCE_FIELDS_NOT_ISSUED = "LICENCE_FIELDS_NOT_ISSUED"
    INVALID_LICENCE_TRANSITION = "INVALID_LICENCE_TRANSITION"
    REASON_REQUIRED = "REASON_REQUIRED"
    NOT_THE_ISSUER = "NOT_THE_ISSUER"
    NOT_THE_HOLDER = "NOT_THE_HOLDER"
    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    INVALID_COPY_VALIDITY = "INVALID_COPY_VALIDITY"
    INVALID_VALIDITY = "INVALID_VALIDITY"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[LicenceErrorCode, tuple[str, str]] = {
    LicenceErrorCode.INVALID_LICENCE_ID: (
        "证照标识格式或校验位错误",
        "The licence identifier is malformed or fails its check character",
    ),
    LicenceErrorCode.LICENCE_NOT_FOUND: ("证照库中没有该证照", "No such licence in the library"),
    LicenceErrorCode.LICENCE_NOT_VALID: (
        "该证照当前不是有效状态，不能作为申请材料",
        "The licence is not valid now and cannot serve as a material",
    ),
    LicenceErrorCode.LICENCE_HOLDER_MISMATCH: (
        "证照持证主体与申请人不一致",
        "The licence is held by someone other than the applicant",
    ),
    LicenceErrorCode.LICENCE_TYPE_MISMATCH: (
        "该证照的类型不是这份材料所要求的",
        "The licence is not of the type this material asks for",
    ),
    LicenceErrorCode.LICENCE_TYPE_UNKNOWN: ("未知的证照类型", "Unknown licence type"),
    LicenceErrorCode.LICENCE_FIELD_REQUIRED: (
        "缺少证照必填项",
        "A required field of the licence is missing",
    ),
    LicenceErrorCode.LICENCE_FIELD_UNKNOWN: (
        "该证照类型没有此项",
        "The licence type has no such field",
    ),
    LicenceErrorCode.LICENCE_FIELD_INVALID: (
        "证照字段值不符合要求",
        "A licence field value is not valid for its type",
    ),
    LicenceErrorCode.LICENCE_FIELDS_NOT_ISSUED: (
        "本次决定不产生证照，不应填写证照字段",
        "This decision issues no licence: leave out the licence fields",
    ),
    LicenceErrorCode.INVALID_LICENCE_TRANSITION: (
        "证照当前状态不允许该操作",
        "The licence's status does not allow this",
    ),
    LicenceErrorCode.REASON_REQUIRED: ("须说明理由", "Give the reason"),
    LicenceErrorCode.NOT_THE_ISSUER: (
        "只有发证机构的科长或管理员可以变更证照状态",
        "Only a director or admin of the issuing org changes a licence",
    ),
    LicenceErrorCode.NOT_THE_HOLDER: (
        "只有持证人可以申请加注件",
        "Only the holder asks for a copy",
    ),
    LicenceErrorCode.PURPOSE_REQUIRED: ("须注明用途", "Name the purpose of the copy"),
    LicenceErrorCode.INVALID_COPY_VALIDITY: (
        "加注件有效期应为1至90天",
        "A copy is valid for 1 to 90 days",
    ),
    LicenceErrorCode.INVALID_VALIDITY: (
        "有效期截止日期不能早于今天",
        "The validity cannot end before today",
    ),
}
