"""Tables of e-licences. Every level store holds them: a licence lives in the store
of the org that issued it (the master, whose status verifiers read), and a copy in the
city's licence library (电子证照库), kept up to date through the outbox. A licence
issued by a city org is its own library copy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Enum, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from levels.cases.enums import ApplicantKind
from levels.common.enums import Level
from levels.common.models import LevelBase
from levels.licences.enums import LicenceStatus, LicenceUseKind


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class LicenceType(LevelBase):
    """A kind of licence (营业执照, 残疾人证 …) and the fields its data holds:
    ``[{"key", "label", "type": FieldType, "required", "default"?, "from"?,
    "choices"?}]`` — ``from`` fills a field from the case (``applicant.name``,
    ``decision.date``)."""

    __tablename__ = "licence_types"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[Any]] = mapped_column(default=list)
    # None: valid without end (长期)
    validity_years: Mapped[int | None] = mapped_column(Integer)


class ELicence(LevelBase):
    __tablename__ = "licences"
    __table_args__ = (
        # one licence of each version per case and implementation (100 %, never twice)
        UniqueConstraint("source_case_number", "implementation_code", "version"),
        Index("ix_licences_holder", "holder_id", "type_code", "status"),
        Index("ix_licences_issuer_status", "issuer_org_code", "status"),
    )

    # GB/T 36904 style: type . issuer USCC . serial . version . check character
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type_code: Mapped[str] = mapped_column(String(16))
    type_name: Mapped[str] = mapped_column(String(64))
    serial: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    issuer_org_code: Mapped[str] = mapped_column(String(18))
    issuer_name: Mapped[str] = mapped_column(String(128))
    issuer_level: Mapped[Level] = mapped_column(_enum(Level))
    issuer_division_code: Mapped[str] = mapped_column(String(12), index=True)
    holder_kind: Mapped[ApplicantKind] = mapped_column(_enum(ApplicantKind))
    holder_id: Mapped[str] = mapped_column(String(32))  # the holder's account
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_id_masked: Mapped[str] = mapped_column(String(18))
    source_case_number: Mapped[str] = mapped_column(String(27), index=True)
    implementation_code: Mapped[str] = mapped_column(String(31))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    status: Mapped[LicenceStatus] = mapped_column(_enum(LicenceStatus))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[dt.datetime]
    # moves by one with every status change: the library applies only newer ones
    revision: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    # its position in the issuer's status list (W3C Bitstring Status List)
    status_index: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[str] = mapped_column(String(32))
    supersedes: Mapped[str | None] = mapped_column(String(64))
    superseded_by: Mapped[str | None] = mapped_column(String(64))


class LicenceUse(LevelBase):
    """One use of a library licence: filled in as a material of a case, or a
    purpose-bound copy (加注件) made for its holder. Kept in the city library."""

    __tablename__ = "licence_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    licence_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[LicenceUseKind] = mapped_column(_enum(LicenceUseKind))
    case_number: Mapped[str | None] = mapped_column(String(27))
    material: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(256))
    used_by: Mapped[str] = mapped_column(String(32))
    used_by_org: Mapped[str | None] = mapped_column(String(18))
    used_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]


class LicenceKey(LevelBase):
    """The signing key of one issuing org (ES256), in the store of its level; the
    private key is encrypted with the hub's secret. The hub's JWKS publishes every
    org's public keys by ``kid``."""

    __tablename__ = "licence_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    # an org's USCC, or ``node:<id>`` for a node's message key (ids of up to 40
    # characters, ``levels/common/nodemap.py``)
    org_code: Mapped[str] = mapped_column(String(64), index=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[dt.datetime]
    retired_at: Mapped[dt.datetime | None]


class LicenceSequence(LevelBase):
    """The last serial an org gave to licences of one type, or (``kind`` "#status")
    the last index of its status list."""

    __tablename__ = "licence_sequences"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
