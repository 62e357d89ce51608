"""What the conditions of a node's filtered lists share when the hub's JSON is read
back (``decode`` of ``CaseConditions``, ``LicenceConditions``, ``ItemConditions``): a
text that may be null, an optional account (the condition absent: anyone's; present
and null: nobody's), and BAD_USER_INPUT on the ``filter`` argument for anything that
is not the list's conditions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from levels.common.errors import DomainError, ErrorCode


def text_or_none(value: Any, name: str) -> str | None:
    """``value`` when it is a text or null; else ValueError naming the condition."""
    if value is not None and not isinstance(value, str):
        raise ValueError(name)
    return value


def optional_account(given: Mapping[str, Any], key: str, flag: str) -> dict[str, Any]:
    """The fields of a condition on one account: none when ``given`` does not name
    ``key``; else ``flag`` set and the account's id (None: no account at all)."""
    if key not in given:
        return {}
    return {flag: True, key: text_or_none(given[key], key)}


@contextmanager
def decoding(what: str) -> Iterator[None]:
    """A malformed condition read in the block (KeyError, TypeError, ValueError) is
    BAD_USER_INPUT on ``filter``: "not ``what``"."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, field=["filter"], detail=f"not {what}: {exc}"
        ) from exc
