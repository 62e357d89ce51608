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
strawberry.enum(FieldType)
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
    key: str
    label: str
    type: FieldType
    required: bool
    choices: list[str]
    fills_from: str | None = strawberry.field(
        description="Filled from the case when not given: applicant.name, decision.date …"
    )
    default: str | None


@strawberry.type(name="LicenceType", description="证照类型 and the fields its data holds")
class LicenceTypeType:
    code: str
    name: str
    validity_years: int | None = strawberry.field(description="None: valid without end (长期)")
    fields: list[LicenceFieldSpec]

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
    key: str
    label: str
    value: str


async def labelled(info: Info, type_code: str, data: dict[str, Any]) -> list[LicenceField]:
    kind = await info.context.loaders.licence_type_by_code.load(type_code)
    labels = {f["key"]: f.get("label", f["key"]) for f in (kind.fields if kind else [])}
    order = list(labels) + [k for k in data if k not in labels]
    return [
        LicenceField(key=k, label=labels.get(k, k), value=str(data[k])) for k in order if k in data
    ]


@strawberry.type(name="LicenceUse", description="用证记录: who used the licence, where, why")
class LicenceUseType:
    kind: LicenceUseKind
    case_number: str | None
    material: str | None
    purpose: str
    used_by_org: str | None = strawberry.field(description="The service org that used it")
    used_at: dt.datetime
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
    type_code: str
    type_name: str
    version: int
    issuer_org_code: str
    issuer_name: str
    issuer_level: Level
    holder_kind: ApplicantKind
    holder_name: str
    holder_id_masked: str = strawberry.field(description="Masked: never the full number")
    source_case_number: str
    valid_from: dt.date
    valid_until: dt.date | None = strawberry.field(description="None: valid without end (长期)")
    status: LicenceStatus
    status_reason: str | None
    status_changed_at: dt.datetime
    issued_at: dt.datetime
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
            id=strawberry.ID(encode_id("ELicence", Level.CITY, row.id)),
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
    identifier: str
    type_code: str
    type_name: str
    version: int
    issuer_org_code: str
    issuer_name: str
    holder_name: str
    holder_id_masked: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: LicenceStatus | None = strawberry.field(
        description="Its status as the library or issuer last said"
    )
    data: strawberry.Private[dict[str, Any]]

    @strawberry.field
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
    purpose: str
    expires_at: dt.datetime


@strawberry.type
class LicenceVerification:
    valid: bool = strawberry.field(description="True only when outcome is VALID")
    outcome: VerificationOutcome
    status: LicenceStatus | None = strawberry.field(
        description="The licence's current status at its issuer, when learnt"
    )
    reason: str | None = strawberry.field(description="Why it is not VALID (a stable code)")
    claims: LicenceView | None = strawberry.field(
        description="What the token says, once its signature holds"
    )
    copy: CopyAnnotation | None = strawberry.field(description="Set when a 加注件 was presented")
    checked_at: dt.datetime
    row: strawberry.Private[LicenceRow | None]

    @strawberry.field(description="The library licence, for a viewer who may read it")
    def licence(self, info: Info) -> ELicenceType | None:
        if self.row is None or not allows(
            info.context.viewer, Action.READ, licence_target(self.row)
        ):
            return None
        return ELicenceType.from_row(self.row)


@strawberry.input
class LicenceFilter:
    type_code: str | None = None
    status: LicenceStatus | None = None
    issuer_org_code: str | None = None
    division_code: str | None = strawberry.field(
        default=None, description="Issued in this division or below"
    )
    case_number: str | None = strawberry.field(default=None, description="Issued for this case")


@strawberry.input(description="A value for one field of the licence an approval issues")
class LicenceFieldInput:
    key: str
    value: str


@strawberry.input
class LicenceActionInput:
    id: str = strawberry.field(description="The licence identifier")
    reason: str | None = strawberry.field(
        default=None, description="Required to suspend or revoke; audited"
    )


@strawberry.input
class ReissueLicenceInput:
    id: str
    reason: str
    fields: list[LicenceFieldInput] = strawberry.field(
        default_factory=list, description="Changed fields; the rest carry over"
    )
    valid_until: dt.date | None = strawberry.field(
        default=None, description="Default: the type's validity from today"
    )


@strawberry.input
class LicenceCopyInput:
    id: str
    purpose: str = strawberry.field(description="What the copy may be used for (加注)")
    valid_days: int = strawberry.field(default=30, description="1 to 90 days")


@strawberry.type
class LicencePayload:
    licence: ELicenceType | None
    errors: list[UserError]


@strawberry.type(description="加注件: a signed, purpose-bound, expiring copy of a licence")
class LicenceCopy:
    token: str
    licence_identifier: str
    purpose: str
    expires_at: dt.datetime

    @strawberry.field
    def qr_svg(self) -> str:
        return qr_svg(self.token)


@strawberry.type
class LicenceCopyPayload:
    copy: LicenceCopy | None
    errors: list[UserError]
