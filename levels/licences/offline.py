"""Offline verification: with only a kit — the hub's licence JWKS and each issuer's
signed status list — and no connection, a counter or kiosk checks a presented token.

A status list is trusted until its ``exp`` (issued at + TTL). Past that the verifier
cannot know whether the licence was revoked since, and says UNKNOWN, never VALID."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt

from levels.licences import statuslist
from levels.licences.enums import VerificationOutcome, VerificationReason
from levels.licences.keys import ALGORITHM, PublicKey, keys_of
from levels.licences.models import LicenceKey
from levels.licences.tokens import STATUS_TYP, Verdict, open_token


class Kit:
    """A verification kit as the hub serves it at ``/licences/kit``."""

    def __init__(self, document: dict[str, Any]) -> None:
        rows = [
            LicenceKey(kid=k["kid"], org_code=k["kid"].split("-")[0], public_jwk=k)
            for k in document.get("jwks", {}).get("keys", [])
        ]
        self.keys: dict[str, PublicKey] = keys_of(rows)
        self.status_lists: dict[str, str] = dict(document.get("statusLists", {}))
        self.library_orgs = frozenset(document.get("libraryOrgs", []))


def _status(kit: Kit, issuer: str, index: int, now: dt.datetime) -> Verdict | None:
    """The verdict the issuer's status list gives, or None when it says nothing."""
    token = kit.status_lists.get(issuer)
    if token is None:
        return Verdict(VerificationOutcome.UNKNOWN, VerificationReason.STATUS_LIST_MISSING)
    try:
        header = jwt.get_unverified_header(token)
        key = kit.keys.get(header.get("kid", ""))
        if key is None or key.org_code != issuer or header.get("typ") != STATUS_TYP:
            raise jwt.InvalidTokenError("status list not signed by its issuer")
        claims = jwt.decode(token, key.key, algorithms=[ALGORITHM], options={"verify_exp": False})
    except jwt.InvalidTokenError:
        return Verdict(VerificationOutcome.UNKNOWN, VerificationReason.STATUS_LIST_MISSING)
    if claims.get("iss") != issuer:
        return Verdict(VerificationOutcome.UNKNOWN, VerificationReason.STATUS_LIST_MISSING)
    if now.timestamp() >= claims.get("exp", 0):
        return Verdict(VerificationOutcome.UNKNOWN, VerificationReason.STATUS_LIST_STALE)
    lists = claims.get("lists", {})
    for purpose, outcome, reason in (
        ("revocation", VerificationOutcome.REVOKED, VerificationReason.REVOKED),
        ("suspension", VerificationOutcome.SUSPENDED, VerificationReason.SUSPENDED),
    ):
        try:
            if statuslist.is_set(statuslist.decode(lists[purpose]), index):
                return Verdict(outcome, reason)
        except (KeyError, ValueError, IndexError, OSError):
            return Verdict(VerificationOutcome.UNKNOWN, VerificationReason.STATUS_LIST_MISSING)
    return None


def verify_offline(token: str, kit: Kit, now: dt.datetime) -> Verdict:
    verdict = open_token(token, kit.keys.get, now, library_orgs=kit.library_orgs)
    licence = verdict.licence
    if verdict.outcome is not VerificationOutcome.VALID or licence is None:
        return verdict
    said = _status(kit, licence["iss"], licence["status"]["statusListIndex"], now)
    if said is not None:
        said.claims, said.copy = verdict.claims, verdict.copy
        return said
    return verdict
