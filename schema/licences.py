"""E-licences in the schema: the licence library (wallet, staff and auditor lists),
verification, lifecycle mutations and purpose-bound copies (加注件)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import segno
import strawberry

from auth.policy import Action, Resource, Target, allows
from levels.licences.enums import (
    FieldType,
    LicenceStatus,
    LicenceUseKind,
    VerificationOutcome,
    VerificationReason,
)
from levels.licences.models import ELicence as LicenceRow
from levels.licences.models import LicenceType as LicenceTypeRow
from levels.licences.models import LicenceUse as LicenceUseRow
from resolvers.globalid import encode_id
from schema.enums import ApplicantKind, Level
from schema.info import Info
from schema.payloads import UserError
from schema.relay import Node

strawberry.enum(LicenceStatus, description="电子证照状态: 有效 / 暂扣 / 吊销(或已换发) / 过期")
strawberry.enum(FieldType, description="The kind of value a licence field holds")
strawberry.enum(LicenceUseKind, description="用证: as an application material, or a copy")
strawberry.enum(
    VerificationOutcome,
    description="What a verifier concludes; UNKNOWN when the current status cannot be "
    "learnt (never VALID then)",
)
strawberry.enum(VerificationReason)


def licence_target(row: LicenceRow) -> Target:
    return Target(
        Resource.LICENCE,
        division_code=row.issuer_division_code,
        owner=row.holder_id,
        org_code=row.issuer_org_code,
    )


def qr_svg(token: str) -> str:
    """A QR code (segno, error correction M) carrying the token, as inline SVG for a
    counter screen, kiosk or the app to show and a scanner to read."""
    return str(segno.make(token, error="m", micro=False).svg_inline(scale=3))


@strawberry.type(description="One field of a licence type's data")
class LicenceFieldSpec:
    key: str = strawberry.field(description="The field's key in a licence's data")
    label: str = strawberry.field(description="Its label")
    type: FieldType = strawberry.field(description="TEXT, DATE, NUMBER or CHOICE")
    required: bool = strawberry.field(description="An issue without it is `LICENCE_FIELD_REQUIRED`")
    choices: list[str] = strawberry.field(description="The values a CHOICE field may take")
    fills_from: str | None = strawberry.field(
        description="Filled from the case when not given: applicant.name, decision.date …"
    )
    default: str | None = strawberry.field(description="The value when none is given")


@strawberry.type(name="LicenceType", description="证照类型 and the fields its data holds")
class LicenceTypeType:
    code: str = strawberry.field(description="Its code, e.g. `YYZZ`")
    name: str = strawberry.field(description="Its name, e.g. 营业执照")
    validity_years: int | None = strawberry.field(description="None: valid without end (长期)")
    fields: list[LicenceFieldSpec] = strawberry.field(
        description="The fields a licence of this type holds"
    )

    @classmethod
    def from_row(cls, row: LicenceTypeRow) -> LicenceTypeType:
        return cls(
            code=row.code,
            name=row.name,
            validity_years=row.validity_years,
            fields=[
                LicenceFieldSpec(
                    key=f["key"],
                    label=f.get("label", f["key"]),
                    type=FieldType(f.get("type", "TEXT")),
                    required=bool(f.get("required")),
                    choices=list(f.get("choices", [])),
                    fills_from=f.get("from"),
                    default=f.get("default"),
                )
                for f in row.fields
            ],
        )


@strawberry.type(description="A value of a licence's data, with its label")
class LicenceField:
    key: str = strawberry.field(description="The field's key in the licence's data")
    label: str = strawberry.field(description="Its label, e.g. 经营者")
    value: str = strawberry.field(description="Its value")


async def labelled(info: Info, type_code: str, data: dict[str, Any]) -> list[LicenceField]:
    kind = await info.context.loaders.licence_type_by_code.load(type_code)
    labels = {f["key"]: f.get("label", f["key"]) for f in (kind.fields if kind else [])}
    order = list(labels) + [k for k in data if k not in labels]
    return [
        LicenceField(key=k, label=labels.get(k, k), value=str(data[k])) for k in order if k in data
    ]


@strawberry.type(name="LicenceUse", description="用证记录: who used the licence, where, why")
class LicenceUseType:
    kind: LicenceUseKind = strawberry.field(
        description="How it was used: a case's material, a copy …"
    )
    case_number: str | None = strawberry.field(description="The case it served, if any")
    material: str | None = strawberry.field(description="The material it replaced, if any")
    purpose: str = strawberry.field(description="What for")
    used_by_org: str | None = strawberry.field(description="The service org that used it")
    used_at: dt.datetime = strawberry.field(description="When")
    expires_at: dt.datetime | None = strawberry.field(description="A copy's end")

    @classmethod
    def from_row(cls, row: LicenceUseRow) -> LicenceUseType:
        return cls(
            kind=row.kind,
            case_number=row.case_number,
            material=row.material,
            purpose=row.purpose,
            used_by_org=row.used_by_org,
            used_at=row.used_at,
            expires_at=row.expires_at,
        )


@strawberry.type(
    name="ELicence",
    description="电子证照: an e-licence of the library, signed by its issuing org",
)
class ELicenceType(Node):
    identifier: str = strawberry.field(
        description="GB/T 36904 style: type . issuer USCC . serial . version . check"
    )
    type_code: str = strawberry.field(description="The licence type's code, e.g. `YYZZ`")
    type_name: str = strawberry.field(description="The licence type's name, e.g. 营业执照")
    version: int = strawberry.field(description="1, then one more with each reissue")
    issuer_org_code: str = strawberry.field(description="The issuing org's credit code")
    issuer_name: str = strawberry.field(description="The issuing org's name")
    issuer_level: Level = strawberry.field(description="The level whose store holds the master")
    holder_kind: ApplicantKind = strawberry.field(description="A person or an enterprise")
    holder_name: str = strawberry.field(description="The holder's name")
    holder_id_masked: str = strawberry.field(description="Masked: never the full number")
    source_case_number: str = strawberry.field(description="The case whose approval issued it")
    valid_from: dt.date = strawberry.field(description="The first day it is valid")
    valid_until: dt.date | None = strawberry.field(description="None: valid without end (长期)")
    status: LicenceStatus = strawberry.field(description="VALID, SUSPENDED, REVOKED or EXPIRED")
    status_reason: str | None = strawberry.field(description="Why it was suspended or revoked")
    status_changed_at: dt.datetime = strawberry.field(description="When its status last changed")
    issued_at: dt.datetime = strawberry.field(description="When it was issued")
    supersedes: str | None = strawberry.field(description="The version this one replaced")
    superseded_by: str | None = strawberry.field(description="The version that replaced it")
    token: str = strawberry.field(
        description="The compact JWS (ES256) the issuer signed: verify it online with "
        "verifyLicence, or offline with the kit at /licences/kit"
    )
    row: strawberry.Private[LicenceRow]

    def authz_target(self) -> Target:
        return licence_target(self.row)

    @classmethod
    def from_row(cls, row: LicenceRow) -> ELicenceType:
        return cls(
            id=strawberry.ID(encode_id("ELicence", row.issuer_division_code, row.id)),
            identifier=row.id,
            type_code=row.type_code,
            type_name=row.type_name,
            version=row.version,
            issuer_org_code=row.issuer_org_code,
            issuer_name=row.issuer_name,
            issuer_level=row.issuer_level,
            holder_kind=row.holder_kind,
            holder_name=row.holder_name,
            holder_id_masked=row.holder_id_masked,
            source_case_number=row.source_case_number,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status=row.status,
            status_reason=row.status_reason,
            status_changed_at=row.status_changed_at,
            issued_at=row.issued_at,
            supersedes=row.supersedes,
            superseded_by=row.superseded_by,
            token=row.token,
            row=row,
        )

    @strawberry.field(description="The licence's data, labelled by its type")
    async def fields(self, info: Info) -> list[LicenceField]:
        return await labelled(info, self.type_code, self.row.data)

    @strawberry.field(description="A QR code (SVG) carrying the token, for scanning")
    def qr_svg(self) -> str:
        return qr_svg(self.token)

    @strawberry.field(description="Every use recorded in the library, oldest first")
    async def uses(self, info: Info) -> list[LicenceUseType]:
        rows = await info.context.loaders.uses_by_licence.load(self.identifier)
        return [LicenceUseType.from_row(r) for r in rows]


@strawberry.type(
    description="What a presented licence says of itself (its signed claims), or a "
    "library licence as a case's material shows it"
)
class LicenceView:
    identifier: str = strawberry.field(
        description="The licence identifier, `type.issuer.serial.version.check`"
    )
    type_code: str = strawberry.field(description="The licence type's code")
    type_name: str = strawberry.field(description="The licence type's name")
    version: int = strawberry.field(description="The licence's version")
    issuer_org_code: str = strawberry.field(description="The issuing org's credit code")
    issuer_name: str = strawberry.field(description="The issuing org's name")
    holder_name: str = strawberry.field(description="The holder's name")
    holder_id_masked: str = strawberry.field(
        description="The holder's ID number or credit code, masked"
    )
    valid_from: dt.date | None = strawberry.field(description="The first day it is valid")
    valid_until: dt.date | None = strawberry.field(
        description="The last day it is valid (null: no end)"
    )
    status: LicenceStatus | None = strawberry.field(
        description="Its status as the library or issuer last said"
    )
    data: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The licence's data, with labels")
    async def fields(self, info: Info) -> list[LicenceField]:
        return await labelled(info, self.type_code, self.data)

    @classmethod
    def from_row(cls, row: LicenceRow) -> LicenceView:
        return cls(
            identifier=row.id,
            type_code=row.type_code,
            type_name=row.type_name,
            version=row.version,
            issuer_org_code=row.issuer_org_code,
            issuer_name=row.issuer_name,
            holder_name=row.holder_name,
            holder_id_masked=row.holder_id_masked,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            status=row.status,
            data=row.data,
        )


@strawberry.type(description="加注件: what a copy is for, and until when")
class CopyAnnotation:
    purpose: str = strawberry.field(description="What the copy may be used for")
    expires_at: dt.datetime = strawberry.field(description="When the copy stops verifying")


@strawberry.type(
    description=(
        "What verifying a licence token found: the outcome, the signed claims, the library's record"
    )
)
class LicenceVerification:
    valid: bool = strawberry.field(description="True only when outcome is VALID")
    outcome: VerificationOutcome = strawberry.field(
        description="VALID, INVALID, EXPIRED, REVOKED, SUSPENDED or UNKNOWN"
    )
    status: LicenceStatus | None = strawberry.field(
        description="The licence's current status at its issuer, when learnt"
    )
    reason: str | None = strawberry.field(description="Why it is not VALID (a stable code)")
    claims: LicenceView | None = strawberry.field(
        description="What the token says, once its signature holds"
    )
    copy: CopyAnnotation | None = strawberry.field(description="Set when a 加注件 was presented")
    checked_at: dt.datetime = strawberry.field(description="When it was checked")
    row: strawberry.Private[LicenceRow | None]

    @strawberry.field(description="The library licence, for a viewer who may read it")
    def licence(self, info: Info) -> ELicenceType | None:
        if self.row is None or not allows(
            info.context.viewer, Action.READ, licence_target(self.row)
        ):
            return None
        return ELicenceType.from_row(self.row)


@strawberry.input(description="Which e-licences to list")
class LicenceFilter:
    type_code: str | None = strawberry.field(default=None, description="Only this licence type")
    status: LicenceStatus | None = strawberry.field(default=None, description="Only in this status")
    issuer_org_code: str | None = strawberry.field(default=None, description="Only this issuer's")
    division_code: str | None = strawberry.field(
        default=None, description="Issued in this division or below"
    )
    case_number: str | None = strawberry.field(default=None, description="Issued for this case")


@strawberry.input(description="A value for one field of the licence an approval issues")
class LicenceFieldInput:
    key: str = strawberry.field(description="The field's key, as the licence type names it")
    value: str = strawberry.field(description="Its value (text; a date as YYYY-MM-DD)")


@strawberry.input(description="A change of an e-licence's status by its issuer")
class LicenceActionInput:
    id: str = strawberry.field(description="The licence identifier")
    reason: str | None = strawberry.field(
        default=None, description="Required to suspend or revoke; audited"
    )


@strawberry.input(description="换发: a new version of a licence, the old one revoked")
class ReissueLicenceInput:
    id: str = strawberry.field(description="The licence's global ID")
    reason: str = strawberry.field(description="Why it is reissued")
    fields: list[LicenceFieldInput] = strawberry.field(
        default_factory=list, description="Changed fields; the rest carry over"
    )
    valid_until: dt.date | None = strawberry.field(
        default=None, description="Default: the type's validity from today"
    )


@strawberry.input(description="加注件: a copy of a licence for one purpose, for a few days")
class LicenceCopyInput:
    id: str = strawberry.field(description="The licence's global ID")
    purpose: str = strawberry.field(description="What the copy may be used for (加注)")
    valid_days: int = strawberry.field(default=30, description="1 to 90 days")


@strawberry.type(description="The licence as it now stands, or why nothing changed")
class LicencePayload:
    licence: ELicenceType | None = strawberry.field(
        description="The licence, or null when nothing changed"
    )
    errors: list[UserError] = strawberry.field(
        description=("Expected failures with their codes; empty when the mutation took effect")
    )


@strawberry.type(description="加注件: a signed, purpose-bound, expiring copy of a licence")
class LicenceCopy:
    token: str = strawberry.field(
        description="The copy itself: a compact JWS (`typ: licence-copy+jwt`) signed by the library"
    )
    licence_identifier: str = strawberry.field(description="The identifier of the licence copied")
    purpose: str = strawberry.field(description="What the copy may be used for")
    expires_at: dt.datetime = strawberry.field(description="When the copy stops verifying")

    @strawberry.field(description="The copy's token as a QR code (SVG markup), for a scanner")
    def qr_svg(self) -> str:
        return qr_svg(self.token)


@strawberry.type(description="The signed copy, or why none was made")
class LicenceCopyPayload:
    copy: LicenceCopy | None = strawberry.field(description="The copy, or null when none was made")
    errors: list[UserError] = strawberry.field(
        description=("Expected failures with their codes; empty when the mutation took effect")
    )
