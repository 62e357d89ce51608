"""The signing keys of issuing orgs (ES256, P-256).

Each org signs its licences and its status list with its own key, kept in the store of
its level (private key encrypted with the hub's secret). ``OrgSigner`` finds an org's
current key inside the caller's transaction, creating it on first use; the
``KeyDirectory`` gathers every org's public keys from the level stores for the hub's
JWKS and for verifiers, re-reading them every ``refresh_seconds`` or (rate-limited) when
a token names a ``kid`` it has not seen. A retired key still verifies: licences signed
with it stay valid for years."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import BindParameter, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from levels.licences.models import LicenceKey

ALGORITHM = "ES256"
log = logging.getLogger("govhub.licences")


def new_org_key(org_code: str, *, secret: bytes, now: dt.datetime) -> LicenceKey:
    private = ec.generate_private_key(ec.SECP256R1())
    kid = f"{org_code}-{now:%Y%m%d}-{secrets.token_hex(3)}"
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    ).decode()
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, alg=ALGORITHM, use="sig")
    return LicenceKey(
        kid=kid, org_code=org_code, alg=ALGORITHM, private_pem=pem, public_jwk=jwk, created_at=now
    )


async def rotate_org_key(
    session: AsyncSession, org_code: str, *, secret: bytes, now: dt.datetime
) -> str:
    """Retire the org's signing key (it keeps verifying) and start a new one."""
    await session.execute(
        update(LicenceKey)
        .where(LicenceKey.org_code == org_code, LicenceKey.retired_at.is_(None))
        .values(retired_at=now)
    )
    key = new_org_key(org_code, secret=secret, now=now)
    session.add(key)
    return key.kid


class OrgSigner:
    """The signing half: an org's current private key, found in its own store."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._decrypted: dict[str, ec.EllipticCurvePrivateKey] = {}

    async def signing_key(
        self, session: AsyncSession, org_code: str, now: dt.datetime
    ) -> tuple[str, ec.EllipticCurvePrivateKey]:
        row = (await session.execute(current_key(org_code))).first()
        if row is None:
            # the org's first licence: its key is made in the same transaction
            made = new_org_key(org_code, secret=self._secret, now=now)
            session.add(made)
            await session.flush()
            return made.kid, self.key_of(made.kid, made.private_pem)
        return row.kid, self.key_of(row.kid, row.private_pem)

    def key_of(self, kid: str, private_pem: str) -> ec.EllipticCurvePrivateKey:
        """The private key of ``kid`` from its stored (encrypted) PEM, decrypted once
        per process."""
        key = self._decrypted.get(kid)
        if key is None:
            loaded = serialization.load_pem_private_key(private_pem.encode(), password=self._secret)
            assert isinstance(loaded, ec.EllipticCurvePrivateKey)
            key = self._decrypted[kid] = loaded
        return key


def current_key(org_code: str | BindParameter[str]) -> Select[str, str]:
    """The org's current signing key (its newest that is not retired): ``kid`` and
    ``private_pem``, at most one row. A caller may read it as scalar subqueries of a
    statement of its own (one round trip fewer); ``org_code`` may be a bound parameter
    of a statement built once."""
    return (
        select(LicenceKey.kid, LicenceKey.private_pem)
        .where(LicenceKey.org_code == org_code, LicenceKey.retired_at.is_(None))
        .order_by(LicenceKey.created_at.desc(), LicenceKey.kid)
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class PublicKey:
    kid: str
    org_code: str
    key: ec.EllipticCurvePublicKey
    jwk: dict[str, Any]


# reads the public keys of one store (a level node): raises when it is away
KeySource = Callable[[], Awaitable[list[LicenceKey]]]


def keys_of(rows: Iterable[LicenceKey]) -> dict[str, PublicKey]:
    found: dict[str, PublicKey] = {}
    for row in rows:
        public = ECAlgorithm.from_jwk(row.public_jwk)
        assert isinstance(public, ec.EllipticCurvePublicKey)
        found[row.kid] = PublicKey(row.kid, row.org_code, public, dict(row.public_jwk))
    return found


class KeyDirectory:
    """The verifying half: every org's public keys, from every level store."""

    def __init__(self, sources: Mapping[str, KeySource], *, refresh_seconds: float = 60.0) -> None:
        self._sources = dict(sources)
        self._refresh = refresh_seconds
        self._by_source: dict[str, dict[str, PublicKey]] = {}
        self._keys: dict[str, PublicKey] = {}
        self._loaded_at = float("-inf")

    async def reload(self) -> None:
        for name, source in self._sources.items():
            try:
                self._by_source[name] = keys_of(await source())
            except Exception as exc:  # a store away keeps the keys read before
                log.warning("licence keys of %s not refreshed: %r", name, exc)
        merged: dict[str, PublicKey] = {}
        for keys in self._by_source.values():
            merged.update(keys)
        self._keys = merged
        self._loaded_at = time.monotonic()

    async def _fresh(self, max_age: float) -> None:
        if time.monotonic() - self._loaded_at >= max_age:
            await self.reload()

    async def lookup(self, kid: str) -> PublicKey | None:
        await self._fresh(self._refresh)
        if kid not in self._keys:
            await self._fresh(1.0)  # a key made since: re-read, at most once a second
        return self._keys.get(kid)

    def lookup_loaded(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)

    async def jwks(self) -> dict[str, Any]:
        await self._fresh(self._refresh)
        return {"keys": [k.jwk for k in sorted(self._keys.values(), key=lambda k: k.kid)]}
