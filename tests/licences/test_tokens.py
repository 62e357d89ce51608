"""Signed licences and what a verifier makes of them: tampering, wrong keys, validity,
and offline status lists past their TTL (UNKNOWN, never VALID)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from levels.cases.enums import ApplicantKind
from levels.common.clock import CHINA
from levels.common.enums import Level
from levels.licences import statuslist
from levels.licences.enums import LicenceStatus, VerificationOutcome, VerificationReason
from levels.licences.identifiers import make_licence_id
from levels.licences.keys import keys_of, new_org_key
from levels.licences.models import ELicence, LicenceKey
from levels.licences.offline import Kit, verify_offline
from levels.licences.tokens import (
    COPY_TYP,
    LICENCE_TYP,
    STATUS_TYP,
    copy_claims,
    licence_claims,
    open_token,
    sign,
    status_list_claims,
)

ISSUER = "12140702MB00000006"
OTHER = "12140703MB0000000D"
CITY = "11140700MB0000001N"
SECRET = b"test-secret"
NOW = dt.datetime(2026, 3, 2, 10, tzinfo=CHINA)


def _private(key: LicenceKey) -> Any:
    return serialization.load_pem_private_key(key.private_pem.encode(), password=SECRET)


def _licence(index: int = 7, until: dt.date | None = dt.date(2027, 3, 1)) -> ELicence:
    return ELicence(
        id=make_licence_id("SPJY", ISSUER, 12, 1),
        type_code="SPJY",
        type_name="食品经营许可证",
        serial=12,
        version=1,
        issuer_org_code=ISSUER,
        issuer_name="榆次区政务服务中心",
        issuer_level=Level.COUNTY,
        issuer_division_code="140702000000",
        holder_kind=ApplicantKind.PERSON,
        holder_id="acct-1",
        holder_name="王芳",
        holder_id_masked="140702********1234",
        source_case_number="140702000000-20260302-00001",
        implementation_code="x",
        valid_from=dt.date(2026, 3, 2),
        valid_until=until,
        status=LicenceStatus.VALID,
        status_index=index,
        data={"operator": "王芳"},
        issued_at=NOW,
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, LicenceKey]:
    return {org: new_org_key(org, secret=SECRET, now=NOW) for org in (ISSUER, OTHER, CITY)}


def _token(keys: dict[str, LicenceKey], row: ELicence | None = None) -> str:
    key = keys[ISSUER]
    return sign(licence_claims(row or _licence()), key.kid, _private(key), LICENCE_TYP)


def _kit(
    keys: dict[str, LicenceKey],
    *,
    revoked: tuple[int, ...] = (),
    suspended: tuple[int, ...] = (),
    at: dt.datetime = NOW,
    ttl: int = 3600,
) -> Kit:
    lists = {"revocation": statuslist.encode(revoked), "suspension": statuslist.encode(suspended)}
    key = keys[ISSUER]
    status = sign(
        status_list_claims(ISSUER, lists, now=at, ttl_seconds=ttl),
        key.kid,
        _private(key),
        STATUS_TYP,
    )
    return Kit(
        {
            "jwks": {"keys": [k.public_jwk for k in keys.values()]},
            "statusLists": {ISSUER: status},
            "libraryOrgs": [CITY],
        }
    )


def _lookup(keys: dict[str, LicenceKey]) -> Any:
    return keys_of(keys.values()).get


def test_a_fresh_licence_verifies_offline_with_a_fresh_kit(keys: dict[str, LicenceKey]) -> None:
    verdict = verify_offline(_token(keys), _kit(keys), NOW)
    assert verdict.outcome is VerificationOutcome.VALID and verdict.reason is None
    assert verdict.licence is not None and verdict.licence["jti"] == _licence().id
    assert verdict.licence["holder"]["idMasked"] == "140702********1234"


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["data"]["operator"] = "李四"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_changed_payload_fails_its_signature(keys: dict[str, LicenceKey]) -> None:
    verdict = open_token(_tamper(_token(keys)), _lookup(keys), NOW)
    assert (verdict.outcome, verdict.reason) == (
        VerificationOutcome.INVALID,
        VerificationReason.BAD_SIGNATURE,
    )
    assert verdict.claims is None  # nothing of a forged token is shown


def test_a_licence_signed_with_another_key_under_the_issuers_kid_fails(
    keys: dict[str, LicenceKey],
) -> None:
    forger = new_org_key(ISSUER, secret=SECRET, now=NOW)  # a key nobody published
    token = sign(licence_claims(_licence()), keys[ISSUER].kid, _private(forger), LICENCE_TYP)
    assert open_token(token, _lookup(keys), NOW).reason is VerificationReason.BAD_SIGNATURE


def test_another_orgs_key_cannot_sign_for_the_issuer(keys: dict[str, LicenceKey]) -> None:
    other = keys[OTHER]
    token = sign(licence_claims(_licence()), other.kid, _private(other), LICENCE_TYP)
    verdict = open_token(token, _lookup(keys), NOW)
    assert verdict.reason is VerificationReason.KEY_NOT_OF_ISSUER


def test_an_unknown_kid_and_garbage_are_refused_with_a_reason(
    keys: dict[str, LicenceKey],
) -> None:
    stranger = new_org_key(ISSUER, secret=SECRET, now=NOW)
    token = sign(licence_claims(_licence()), stranger.kid, _private(stranger), LICENCE_TYP)
    assert open_token(token, _lookup(keys), NOW).reason is VerificationReason.UNKNOWN_KEY
    for junk in ("", "abc", "a.b.c", "x" * 20_000):
        assert open_token(junk, _lookup(keys), NOW).reason is VerificationReason.MALFORMED
    unsigned = jwt.encode(licence_claims(_licence()), None, algorithm="none")
    assert open_token(unsigned, _lookup(keys), NOW).reason is VerificationReason.NOT_A_LICENCE


def test_a_licence_past_its_validity_is_expired_and_not_before_it_not_yet_valid(
    keys: dict[str, LicenceKey],
) -> None:
    token = _token(keys, _licence(until=dt.date(2026, 6, 30)))
    last_day = dt.datetime(2026, 6, 30, 23, 59, tzinfo=CHINA)
    assert verify_offline(token, _kit(keys, at=last_day), last_day).outcome is (
        VerificationOutcome.VALID
    )
    next_day = dt.datetime(2026, 7, 1, 0, 0, tzinfo=CHINA)
    assert verify_offline(token, _kit(keys, at=next_day), next_day).outcome is (
        VerificationOutcome.EXPIRED
    )
    before = dt.datetime(2026, 3, 1, 12, tzinfo=CHINA)
    assert open_token(token, _lookup(keys), before).outcome is VerificationOutcome.NOT_YET_VALID


def test_the_status_list_says_revoked_or_suspended_and_a_stale_one_says_unknown(
    keys: dict[str, LicenceKey],
) -> None:
    token = _token(keys)
    assert verify_offline(token, _kit(keys, revoked=(7,)), NOW).outcome is (
        VerificationOutcome.REVOKED
    )
    assert verify_offline(token, _kit(keys, suspended=(7,)), NOW).outcome is (
        VerificationOutcome.SUSPENDED
    )
    # other licences' bits say nothing of this one
    assert verify_offline(token, _kit(keys, revoked=(6, 8)), NOW).outcome is (
        VerificationOutcome.VALID
    )
    kit = _kit(keys, ttl=3600)
    later = NOW + dt.timedelta(seconds=3600)
    stale = verify_offline(token, kit, later)
    assert (stale.outcome, stale.reason) == (
        VerificationOutcome.UNKNOWN,
        VerificationReason.STATUS_LIST_STALE,
    )


def test_a_status_list_not_signed_by_the_issuer_is_not_believed(
    keys: dict[str, LicenceKey],
) -> None:
    lists = {"revocation": statuslist.encode([]), "suspension": statuslist.encode([])}
    other = keys[OTHER]
    forged = sign(
        status_list_claims(ISSUER, lists, now=NOW, ttl_seconds=3600),
        other.kid,
        _private(other),
        STATUS_TYP,
    )
    kit = _kit(keys)
    kit.status_lists[ISSUER] = forged
    assert verify_offline(_token(keys), kit, NOW).outcome is VerificationOutcome.UNKNOWN
    kit.status_lists.pop(ISSUER)
    assert verify_offline(_token(keys), kit, NOW).reason is (VerificationReason.STATUS_LIST_MISSING)


def test_a_copy_carries_its_purpose_expires_and_follows_the_original(
    keys: dict[str, LicenceKey],
) -> None:
    original = jwt.decode(_token(keys), options={"verify_signature": False})
    city = keys[CITY]
    until = NOW + dt.timedelta(days=7)
    copy = sign(
        copy_claims(
            original, library_org=CITY, purpose="银行开户", copy_id="c1", now=NOW, until=until
        ),
        city.kid,
        _private(city),
        COPY_TYP,
    )
    verdict = verify_offline(copy, _kit(keys), NOW)
    assert verdict.outcome is VerificationOutcome.VALID
    assert verdict.copy is not None and verdict.copy["purpose"] == "银行开户"
    assert verify_offline(copy, _kit(keys, revoked=(7,)), NOW).outcome is (
        VerificationOutcome.REVOKED
    )
    week_later = until + dt.timedelta(seconds=1)
    expired = verify_offline(copy, _kit(keys, at=week_later), week_later)
    assert expired.reason is VerificationReason.COPY_EXPIRED
    # an issuer's key does not make copies: only the library signs them
    issuer = keys[ISSUER]
    fake = sign(
        copy_claims(original, library_org=ISSUER, purpose="x", copy_id="c2", now=NOW, until=until),
        issuer.kid,
        _private(issuer),
        COPY_TYP,
    )
    assert verify_offline(fake, _kit(keys), NOW).reason is VerificationReason.NOT_A_LICENCE
