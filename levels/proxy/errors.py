"""Error codes of the village proxy service (代办): payload errors of the authorization
mutations and of an agent's submission."""

from __future__ import annotations

import enum


class ProxyErrorCode(enum.Enum):
    NOT_AN_AGENT = "NOT_AN_AGENT"
    OUTSIDE_YOUR_VILLAGE = "OUTSIDE_YOUR_VILLAGE"
    VILLAGE_NOT_FOUND = "VILLAGE_NOT_FOUND"
    RESIDENT_NOT_FOUND = "RESIDENT_NOT_FOUND"
    MATTER_NOT_PROXIABLE = "MATTER_NOT_PROXIABLE"
    MODE_NOT_OFFERED = "MODE_NOT_OFFERED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    EXPIRY_IN_THE_PAST = "EXPIRY_IN_THE_PAST"
    EXPIRY_TOO_FAR = "EXPIRY_TOO_FAR"
    SCOPE_REQUIRED = "SCOPE_REQUIRED"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    INVALID_PHONE = "INVALID_PHONE"
    CHANNEL_NOT_PROXY = "CHANNEL_NOT_PROXY"
    AUTHORIZATION_REQUIRED = "AUTHORIZATION_REQUIRED"
    AUTHORIZATION_NOT_FOUND = "AUTHORIZATION_NOT_FOUND"
    AUTHORIZATION_REVOKED = "AUTHORIZATION_REVOKED"
    AUTHORIZATION_EXPIRED = "AUTHORIZATION_EXPIRED"
    AUTHORIZATION_OTHER_MATTER = "AUTHORIZATION_OTHER_MATTER"
    AUTHORIZATION_OTHER_RESIDENT = "AUTHORIZATION_OTHER_RESIDENT"
    NOT_REVOCABLE_BY_YOU = "NOT_REVOCABLE_BY_YOU"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[ProxyErrorCode, tuple[str, str]] = {
    ProxyErrorCode.NOT_AN_AGENT: (
        "只有村级代办员可以凭授权代为申请",
        "Only a village agent submits for a resident with an authorization",
    ),
    ProxyErrorCode.OUTSIDE_YOUR_VILLAGE: (
        "该事项属于其他村便民服务站，不在您的服务范围",
        "That item belongs to another village's station, not to yours",
    ),
    ProxyErrorCode.VILLAGE_NOT_FOUND: (
        "未找到该村（社区）便民服务站",
        "No village convenience service station there",
    ),
    ProxyErrorCode.RESIDENT_NOT_FOUND: (
        "未找到该身份证号码对应的居民账号",
        "No resident's account has that ID number",
    ),
    ProxyErrorCode.MATTER_NOT_PROXIABLE: (
        "该事项不能在本村便民服务站代办",
        "This village station cannot handle that matter for residents",
    ),
    ProxyErrorCode.MODE_NOT_OFFERED: (
        "本村便民服务站不以该方式办理此事项",
        "The village station does not offer that service mode for this matter",
    ),
    ProxyErrorCode.METHOD_NOT_ALLOWED: (
        "代办员只能登记书面或当面授权；手机授权由居民本人在移动端确认",
        "An agent records written or in-person authorizations; residents authorize "
        "in the app themselves",
    ),
    ProxyErrorCode.EXPIRY_IN_THE_PAST: (
        "授权有效期不能早于今天",
        "An authorization cannot expire before today",
    ),
    ProxyErrorCode.EXPIRY_TOO_FAR: (
        "授权有效期最长一年",
        "An authorization lasts one year at most",
    ),
    ProxyErrorCode.SCOPE_REQUIRED: (
        "请填写授权范围",
        "Say what the agent is authorized to do",
    ),
    ProxyErrorCode.TEXT_TOO_LONG: ("填写内容过长", "The text is too long"),
    ProxyErrorCode.INVALID_PHONE: (
        "联系电话格式错误（手机号或带区号的固定电话）",
        "A phone number is a mobile number or a landline with its area code",
    ),
    ProxyErrorCode.CHANNEL_NOT_PROXY: (
        "代办件的办理渠道为代办（PROXY）",
        "An agent's submission comes in on the PROXY channel",
    ),
    ProxyErrorCode.AUTHORIZATION_REQUIRED: (
        "代为申请须凭居民的授权",
        "An agent submits only with the resident's authorization",
    ),
    ProxyErrorCode.AUTHORIZATION_NOT_FOUND: ("未找到该授权", "No such authorization"),
    ProxyErrorCode.AUTHORIZATION_REVOKED: (
        "该授权已被撤销",
        "That authorization was revoked",
    ),
    ProxyErrorCode.AUTHORIZATION_EXPIRED: ("该授权已过期", "That authorization has expired"),
    ProxyErrorCode.AUTHORIZATION_OTHER_MATTER: (
        "该授权不包括此事项",
        "That authorization is for another matter",
    ),
    ProxyErrorCode.AUTHORIZATION_OTHER_RESIDENT: (
        "该授权不是此申请人给予的",
        "That authorization was given by another resident",
    ),
    ProxyErrorCode.NOT_REVOCABLE_BY_YOU: (
        "只有授权人本人或登记该授权的代办员可以撤销",
        "Only the resident who gave it, or the agent who recorded it, can revoke it",
    ),
}
