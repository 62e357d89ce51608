"""Mutation payloads: every mutation returns its object next to ``errors``, the typed
domain failures (bad input, wrong state, wrong level) in the client's language."""

from __future__ import annotations

from typing import Any

import strawberry

from levels.common.errors import DomainError


@strawberry.type(description="An expected failure: a stable code, the input field, a message")
class UserError:
    code: str = strawberry.field(
        description="A stable code clients switch on, e.g. `INVALID_TRANSITION`"
    )
    field: list[str] | None = strawberry.field(description="The input field it concerns, as a path")
    message: str = strawberry.field(
        description="A message for people (Chinese, English with `Accept-Language: en`)"
    )

    @classmethod
    def of(cls, error: DomainError, locale: str) -> UserError:
        return cls(code=error.code.value, field=error.field, message=error.localized(locale))


def user_errors(error: DomainError, locale: str) -> list[UserError]:
    return [UserError.of(error, locale)]


# the optimistic lock of every mutation input on a case
VERSION_CHECK = (
    "The case's `version` as last read: if it changed meanwhile, `VERSION_CONFLICT` and "
    "nothing changes"
)


def version_check() -> Any:
    """An input's ``expected_version`` field: optional, checked against the case."""
    return strawberry.field(default=None, description=VERSION_CHECK)
