"""Resident ID numbers (公民身份号码): validated with python-stdnum, never stored in
clear. A keyed hash (HMAC-SHA256 with the store secret) finds an account by its ID;
the masked form is the only one ever shown."""

from __future__ import annotations

import hashlib
import hmac

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from auth.errors import AuthErrorCode
from levels.common.codes import Field, field_path
from levels.common.errors import DomainError


def parse_id_number(value: str, *, field: Field = "idNumber") -> str:
    """The 18-character resident ID, checked for length, birth date, place and
    check digit; a typed error otherwise."""
    try:
        return str(ric.validate(value.strip().upper()))
    except (ValidationError, KeyError, ValueError):
        raise DomainError(AuthErrorCode.INVALID_ID_NUMBER, field=field_path(field)) from None


def mask_id_number(number: str) -> str:
    """``1407**********1234``: the region and the last four, nothing else."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def id_number_hash(secret: bytes, number: str) -> str:
    return hmac.new(secret, number.encode(), hashlib.sha256).hexdigest()
