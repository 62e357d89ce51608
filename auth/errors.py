"""Error codes of the identity layer. Messages say what went wrong without helping an
attacker: an unknown user and a wrong password are the same INVALID_CREDENTIALS."""

from __future__ import annotations

import enum


class AuthErrorCode(enum.Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_CHANNEL = "INVALID_CHANNEL"
    INVALID_ID_NUMBER = "INVALID_ID_NUMBER"
    INVALID_USERNAME = "INVALID_USERNAME"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    ACCOUNT_EXISTS = "ACCOUNT_EXISTS"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_ROLE = "INVALID_ROLE"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    INVALID_HANDOFF_CODE = "INVALID_HANDOFF_CODE"
    HANDOFF_EXPIRED = "HANDOFF_EXPIRED"
    HANDOFF_PENDING = "HANDOFF_PENDING"
    HANDOFF_SAME_CHANNEL = "HANDOFF_SAME_CHANNEL"
    INVALID_SCOPE = "INVALID_SCOPE"
    INVALID_CLIENT_KEY = "INVALID_CLIENT_KEY"

    def messages(self) -> tuple[str, str]:
        return _MESSAGES[self]


_MESSAGES: dict[AuthErrorCode, tuple[str, str]] = {
    AuthErrorCode.UNAUTHENTICATED: (
        "未登录或登录已失效，请重新登录",
        "Not signed in, or the sign-in is no longer valid",
    ),
    AuthErrorCode.FORBIDDEN: ("无权访问或办理此项", "Not permitted"),
    AuthErrorCode.INVALID_CREDENTIALS: ("用户名或密码错误", "Wrong username or password"),
    AuthErrorCode.ACCOUNT_LOCKED: (
        "账号已锁定，请稍后再试或联系管理员",
        "The account is locked; try later or ask an administrator",
    ),
    AuthErrorCode.RATE_LIMITED: ("尝试过于频繁，请稍后再试", "Too many attempts; try later"),
    AuthErrorCode.INVALID_CHANNEL: (
        "该渠道不能用于登录",
        "This channel cannot be used to sign in",
    ),
    AuthErrorCode.INVALID_ID_NUMBER: (
        "公民身份号码格式或校验码错误",
        "The resident ID number is malformed or fails its checksum",
    ),
    AuthErrorCode.INVALID_USERNAME: (
        "用户名应为3至64位字母、数字、点、横线或下划线",
        "A username is 3 to 64 letters, digits, dots, dashes or underscores",
    ),
    AuthErrorCode.USERNAME_TAKEN: ("用户名已被使用", "The username is taken"),
    AuthErrorCode.ACCOUNT_EXISTS: (
        "该证件已注册账号",
        "An account for this identity exists already",
    ),
    AuthErrorCode.WEAK_PASSWORD: ("密码至少需要10位", "A password needs at least 10 characters"),
    AuthErrorCode.INVALID_ROLE: ("角色与账号类型不符", "The roles do not fit the account kind"),
    AuthErrorCode.INVALID_REFRESH_TOKEN: ("刷新令牌无效", "The refresh token is not valid"),
    AuthErrorCode.REFRESH_TOKEN_REUSED: (
        "刷新令牌被重复使用，该会话已注销，请重新登录",
        "The refresh token was used twice; the session is revoked, sign in again",
    ),
    AuthErrorCode.SESSION_EXPIRED: ("会话已过期，请重新登录", "The session expired; sign in again"),
    AuthErrorCode.INVALID_HANDOFF_CODE: ("接续码无效", "The hand-off code is not valid"),
    AuthErrorCode.HANDOFF_EXPIRED: ("接续码已过期", "The hand-off code expired"),
    AuthErrorCode.HANDOFF_PENDING: (
        "尚未在另一终端确认，请稍候",
        "Not yet approved on the other device; try again shortly",
    ),
    AuthErrorCode.HANDOFF_SAME_CHANNEL: (
        "请在另一渠道（如手机App）确认接续",
        "Approve the hand-off on another channel (e.g. the mobile app)",
    ),
    AuthErrorCode.INVALID_SCOPE: ("权限范围无效", "Unknown scope"),
    AuthErrorCode.INVALID_CLIENT_KEY: (
        "客户端公钥无效（需为P-256或Ed25519公钥）",
        "The client key is not a P-256 or Ed25519 public key",
    ),
}
