"""Languages a desk serves in and an applicant reads (003 "1个综合性藏汉双语咨询服务导办台"):
codes (ISO 639-1: zh 中文, bo 藏文 …) and their check."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from levels.common.errors import DomainError

CHINESE = "zh"
TIBETAN = "bo"
# the languages the hub knows by name; a desk or an applicant names one of these
LANGUAGES: dict[str, str] = {
    CHINESE: "中文",
    TIBETAN: "藏文 (བོད་ཡིག)",
    "ug": "维吾尔文",
    "mn": "蒙古文",
    "ii": "彝文",
    "en": "English",
}
MAX_LANGUAGES = len(LANGUAGES)


class LanguageErrorCode(enum.Enum):
    UNKNOWN_LANGUAGE = "UNKNOWN_LANGUAGE"
    LANGUAGE_NOT_SERVED = "LANGUAGE_NOT_SERVED"

    def messages(self) -> tuple[str, str]:
        return _ERRORS[self]


_ERRORS = {
    LanguageErrorCode.UNKNOWN_LANGUAGE: (
        "未知的语言代码（可用：zh、bo、ug、mn、ii、en）",
        "Unknown language code (zh, bo, ug, mn, ii, en)",
    ),
    LanguageErrorCode.LANGUAGE_NOT_SERVED: (
        "没有以该语言服务的窗口",
        "No window serves in that language",
    ),
}


def parse_language(value: str, *, field: list[str]) -> str:
    code = value.strip().lower()
    if code not in LANGUAGES:
        raise DomainError(LanguageErrorCode.UNKNOWN_LANGUAGE, field=field, detail=value[:16])
    return code


def parse_languages(values: Iterable[str], *, field: list[str]) -> list[str]:
    """Distinct known codes, in the order given."""
    found: list[str] = []
    for i, value in enumerate(values):
        code = parse_language(value, field=[*field, str(i)])
        if code not in found:
            found.append(code)
    return found


def optional_language(value: str | None, field: list[str]) -> str | None:
    """A language asked for, or None when none is (absent or blank)."""
    if value is None or not value.strip():
        return None
    return parse_language(value, field=field)
