"""A holder's part of the library carried to a node (``levels/licences/held.py``): it
travels as JSON and back unchanged; the node reads from it what the library's store
would answer — the holder's newest VALID licence of a type in its validity, their live
ones newest first — and a malformed one is BAD_USER_INPUT."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from levels.common.clock import CHINA
from levels.common.errors import DomainError, ErrorCode
from levels.licences.enums import LicenceStatus
from levels.licences.held import HeldLicences, decode_held, encode_held, live_of, newest_valid
from levels.licences.models import ELicence


def _licence(id: str, holder: str, day: int, **more: Any) -> ELicence:
    return ELicence(
        id=id,
        type_code=more.pop("type_code", "CJRZ"),
        holder_id=holder,
        status=more.pop("status", LicenceStatus.VALID),
        issued_at=dt.datetime(2026, 3, day, 9, tzinfo=CHINA),
        valid_until=more.pop("valid_until", None),
        **more,
    )


def test_a_holders_licences_travel_and_read_as_the_library_answers() -> None:
    held = HeldLicences(
        "zhang",
        (
            _licence("new-expired", "zhang", 20, valid_until=dt.date(2026, 4, 1)),
            _licence("old", "zhang", 1),
            _licence("suspended", "zhang", 25, status=LicenceStatus.SUSPENDED),
            _licence("revoked", "zhang", 26, status=LicenceStatus.REVOKED),
            _licence("named", "wang", 27),
        ),
        {"old": LicenceStatus.VALID, "suspended": None},
    )

    back = decode_held(encode_held(held))

    assert back is not None and back.holder == "zhang" and back.at_issuer == held.at_issuer
    assert [r.id for r in back.rows] == [r.id for r in held.rows]
    assert [r.id for r in live_of(back, ["CJRZ"])] == ["suspended", "new-expired", "old"]
    assert newest_valid(back, ["CJRZ"], dt.date(2026, 3, 30))["CJRZ"].id == "new-expired"
    assert newest_valid(back, ["CJRZ"], dt.date(2026, 4, 2))["CJRZ"].id == "old"
    assert newest_valid(back, ["YYZZ"], dt.date(2026, 4, 2)) == {}
    assert decode_held(None) is None


@pytest.mark.parametrize(
    "sent", [[], {"holder": "x"}, {"holder": "x", "rows": [{}], "at_issuer": {}}]
)
def test_what_is_not_a_holders_licences_is_bad_input(sent: Any) -> None:
    with pytest.raises(DomainError) as refused:
        decode_held(sent)
    assert refused.value.code is ErrorCode.BAD_USER_INPUT
