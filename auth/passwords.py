"""Password hashing with argon2 (argon2-cffi, RFC 9106 low-memory profile)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from auth.errors import AuthErrorCode
from levels.common.errors import DomainError

MIN_LENGTH = 10

_hasher = PasswordHasher()


@functools.cache
def _dummy() -> str:
    # verified against when the username is unknown, so that a miss costs the same
    # time as a wrong password and does not tell which usernames exist
    return _hasher.hash("govhub-no-such-account")


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise DomainError(AuthErrorCode.WEAK_PASSWORD, field=["password"])
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
