"""Written notices (通知书) in the schema: a case's notices with their download link,
and the verification of a presented one (what its QR code holds)."""

from __future__ import annotations

import datetime as dt

import strawberry

from levels.notices.enums import NoticeKind, NoticeRefusal
from levels.notices.models import CaseNotice
from resolvers.notices import NoticeCheck

strawberry.enum(
    NoticeKind,
    description="通知书: 收件通知书 RECEIPT, 受理告知书 VILLAGE_RECEIPT (a village station's, "
    "two parts), 一次性告知通知书 SUPPLEMENT, 决定受理通知书 ACCEPTANCE, 不予受理通知书 "
    "REJECTION, 特殊环节通知书 SPECIAL_PROCEDURE, 不予许可决定书 DENIAL",
)
strawberry.enum(NoticeRefusal, description="Why a presented notice does not verify")


# where a notice's PDF is served (GET, with the viewer's bearer token)
NOTICE_ROUTE = "/notices/{id}.pdf"


def notice_url(notice_id: str) -> str:
    return NOTICE_ROUTE.replace("{id}", notice_id)


@strawberry.type(name="Notice", description="A written notice of a case, as a document")
class NoticeType:
    id: str = strawberry.field(description="文书编号: the case number, the level, a sequence")
    kind: NoticeKind = strawberry.field(description="Which notice the step produced")
    title: str = strawberry.field(description="Its title as printed (e.g. 决定受理通知书)")
    issued_at: dt.datetime = strawberry.field(description="When it was issued (the step's time)")
    issuer_code: str = strawberry.field(description="The org that issued it (its USCC)")
    issuer_name: str = strawberry.field(description="The issuing org's name, as printed")
    url: str = strawberry.field(
        description="The PDF (GET with the same bearer token): for the applicant's phone "
        "or browser, and for the counter to print"
    )

    @classmethod
    def from_row(cls, row: CaseNotice) -> NoticeType:
        return cls(
            id=row.id,
            kind=row.kind,
            title=row.content["title"],
            issued_at=row.issued_at,
            issuer_code=row.org_code,
            issuer_name=row.content["org"]["name"],
            url=notice_url(row.id),
        )


@strawberry.type(description="The check of a presented notice token (what its QR code holds)")
class NoticeVerification:
    valid: bool = strawberry.field(
        description="Signed by a key of the org it names and kept on record with this token"
    )
    refusal: NoticeRefusal | None = strawberry.field(description="Why it is not valid")
    notice_id: str | None = strawberry.field(description="The notice's id, when it is on record")
    kind: NoticeKind | None = strawberry.field(description="Which notice it is")
    title: str | None = strawberry.field(description="Its title as printed")
    case_number: str | None = strawberry.field(description="The case it belongs to")
    issuer_code: str | None = strawberry.field(description="The issuing org (its USCC)")
    issuer_name: str | None = strawberry.field(description="The issuing org's name")
    issued_at: dt.datetime | None = strawberry.field(description="When it was issued")
    checked_at: dt.datetime = strawberry.field(description="When this check was made")

    @classmethod
    def from_check(cls, check: NoticeCheck) -> NoticeVerification:
        row, verdict = check.row, check.verdict
        claims = verdict.claims if row is not None else None
        return cls(
            valid=verdict.valid,
            refusal=verdict.refusal,
            notice_id=row.id if row else None,
            kind=row.kind if row else None,
            title=claims["title"] if claims else None,
            case_number=row.case_number if row else None,
            issuer_code=row.org_code if row else None,
            issuer_name=claims["iss_name"] if claims else None,
            issued_at=row.issued_at if row else None,
            checked_at=check.checked_at,
        )
