"""Enumerations of e-licences."""

from __future__ import annotations

import enum


class LicenceStatus(enum.Enum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"  # 暂扣/中止: may be reinstated
    REVOKED = "REVOKED"  # 吊销/注销, or superseded by a reissued version
    EXPIRED = "EXPIRED"  # its validity ended


class FieldType(enum.Enum):
    TEXT = "TEXT"
    DATE = "DATE"
    NUMBER = "NUMBER"
    CHOICE = "CHOICE"


class LicenceUseKind(enum.Enum):
    MATERIAL = "MATERIAL"  # filled in as an application material
    COPY = "COPY"  # a purpose-bound copy (加注件) was made


class VerificationOutcome(enum.Enum):
    """What a verifier concludes about a presented token."""

    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # the signature holds but the current status could not be learnt (issuer node
    # away, or an offline status list past its TTL): never VALID
    UNKNOWN = "UNKNOWN"
    # not a licence of this hub: malformed, unknown key, bad signature
    INVALID = "INVALID"


class VerificationReason(enum.Enum):
    MALFORMED = "MALFORMED"
    UNKNOWN_KEY = "UNKNOWN_KEY"
    KEY_NOT_OF_ISSUER = "KEY_NOT_OF_ISSUER"
    BAD_SIGNATURE = "BAD_SIGNATURE"
    NOT_A_LICENCE = "NOT_A_LICENCE"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    NOT_IN_LIBRARY = "NOT_IN_LIBRARY"
    ISSUER_UNAVAILABLE = "ISSUER_UNAVAILABLE"
    STATUS_LIST_STALE = "STATUS_LIST_STALE"
    STATUS_LIST_MISSING = "STATUS_LIST_MISSING"
    HOLDER_MISMATCH = "HOLDER_MISMATCH"
    COPY_EXPIRED = "COPY_EXPIRED"
