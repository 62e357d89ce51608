"""The applicant's language on a case (003 "藏汉双语") and the messages they read in it;
``Case`` includes these fields."""

from __future__ import annotations

import strawberry

from levels.cases.messages import status_message
from levels.common.languages import parse_language


@strawberry.type(description="A message for the applicant, in the language the case records")
class ApplicantMessageType:
    language: str = strawberry.field(description="The language of the text")
    text: str = strawberry.field(description="The message")
    fallback: bool = strawberry.field(
        description="true: no variant in the asked language yet, so the text is Chinese"
    )


@strawberry.type
class CaseLanguageFields:
    """Fields of a case about its applicant's language."""

    @strawberry.field(description="The language the applicant reads (zh, bo …; null: Chinese)")
    def applicant_language(self) -> str | None:
        return self.row.applicant_language  # type: ignore[attr-defined]

    @strawberry.field(
        description="Where the case stands, as its applicant reads it: in the language the "
        "case records (or the one asked for), else in Chinese marked as a fallback"
    )
    def applicant_message(self, language: str | None = None) -> ApplicantMessageType:
        row = self.row  # type: ignore[attr-defined]
        asked = parse_language(language, field=["language"]) if language else None
        message = status_message(row.status, asked or row.applicant_language)
        return ApplicantMessageType(
            language=message.language, text=message.text, fallback=message.fallback
        )
