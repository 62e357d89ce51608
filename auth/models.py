"""Tables of the identity store (its own database, the fifth store): accounts, machine
clients, sessions with their refresh tokens, hand-offs, signing keys and the
client-assertion ids already seen."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from auth.enums import AccountKind, Channel, HandoffStatus, RepresentativeRole
from levels.common.enums import Level
from levels.common.models import AwareDateTime


def _enum(cls: type) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class IdentityBase(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: AwareDateTime,
    }


class Account(IdentityBase):
    """A person, enterprise, staff member, village agent or auditor who signs in."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind))
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(Text)
    # PERSON: the resident ID is never stored in clear; a keyed hash finds the
    # account, the masked form is all anyone is shown
    id_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(18))
    # ENTERPRISE: its unified social credit code
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    # STAFF: the service org (credit code + level) and department
    org_code: Mapped[str | None] = mapped_column(String(18), index=True)
    org_level: Mapped[Level | None] = mapped_column(_enum(Level))
    department_id: Mapped[str | None] = mapped_column(String(16))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    # STAFF: the org's division; AGENT: the village; AUDITOR: the jurisdiction
    division_code: Mapped[str | None] = mapped_column(String(12), index=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]


class Representation(IdentityBase):
    """A person who may apply in an enterprise's name: its legal representative, or an
    agent it authorized, until ``valid_until`` (if set) and unless revoked."""

    __tablename__ = "representations"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True, index=True)
    role: Mapped[RepresentativeRole] = mapped_column(_enum(RepresentativeRole))
    valid_until: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class ServiceClient(IdentityBase):
    """A machine client (a county's own system) that signs its token requests with
    the private key of the public key registered here (RFC 7523)."""

    __tablename__ = "service_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    division_code: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    public_jwk: Mapped[dict[str, Any]]
    disabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]


class AuthSession(IdentityBase):
    """One sign-in on one channel: the family of its refresh tokens. Revoking it ends
    every token of the family."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]  # absolute lifetime
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # a session begun by a hand-off names the session that approved it
    parent_id: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(45))


class RefreshToken(IdentityBase):
    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    issued_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class Handoff(IdentityBase):
    """A cross-channel hand-off (RFC 8628 style): the starting device shows the user
    code, a signed-in person approves it elsewhere, the device redeems its secret
    device code for a session of its own."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_user_code", "user_code", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_code: Mapped[str] = mapped_column(String(9))
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    status: Mapped[HandoffStatus] = mapped_column(_enum(HandoffStatus))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("accounts.id"))
    approved_session_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    approved_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]


class SigningKey(IdentityBase):
    """A token signing key. The newest unretired key signs; a retired key still
    verifies until ``verify_until`` (rotation with overlap)."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(40), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)  # encrypted with the store secret
    public_jwk: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime]
    retired_at: Mapped[dt.datetime | None]
    verify_until: Mapped[dt.datetime | None]


class UsedAssertion(IdentityBase):
    """A client assertion's ``jti``, kept until the assertion expires: never twice."""

    __tablename__ = "used_assertions"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


metadata = IdentityBase.metadata
