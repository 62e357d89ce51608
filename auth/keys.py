"""Token signing keys: Ed25519 (JWS ``EdDSA``), one signing at a time, found by ``kid``.

Rotation keeps the previous key verifying for an overlap (``key_overlap_seconds``) so
tokens signed just before a rotation stay valid; the JWKS lists every key that still
verifies. Private keys are stored encrypted with the identity store's secret."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import SigningKey
from levels.common.clock import Clock
from levels.common.store import Store

ALGORITHM = "EdDSA"


def new_signing_key(*, secret: bytes, now: dt.datetime) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    kid = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    ).decode()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, alg=ALGORITHM, use="sig")
    return SigningKey(kid=kid, alg=ALGORITHM, private_pem=pem, public_jwk=jwk, created_at=now)


async def ensure_signing_key(*, session: AsyncSession, secret: bytes, now: dt.datetime) -> None:
    """Create the first signing key when there is none (``govhub init``)."""
    current = await session.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None)))
    if current is None:
        session.add(new_signing_key(secret=secret, now=now))


async def rotate_keys(
    *, session: AsyncSession, secret: bytes, now: dt.datetime, overlap: dt.timedelta
) -> str:
    """Retire the signing key (it verifies for ``overlap`` more) and start a new one."""
    await session.execute(
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=now, verify_until=now + overlap)
    )
    key = new_signing_key(secret=secret, now=now)
    session.add(key)
    return key.kid


@dataclass(frozen=True, slots=True)
class KeyEntry:
    kid: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None  # only the current signing key is decrypted
    jwk: dict[str, Any]
    verify_until: dt.datetime | None


class KeyRing:
    """The keys of one hub process, read from the identity store and re-read every
    ``refresh_seconds`` (or at once, rate-limited, when a token names an unknown kid)
    so a rotation by ``govhub keys rotate`` reaches every process."""

    def __init__(
        self, store: Store, *, secret: bytes, clock: Clock, refresh_seconds: float = 60.0
    ) -> None:
        self._store = store
        self._secret = secret
        self._clock = clock
        self._refresh = refresh_seconds
        self._keys: dict[str, KeyEntry] = {}
        self._signing: KeyEntry | None = None
        self._loaded_at = float("-inf")

    async def reload(self) -> None:
        now = self._clock.now()
        async with self._store.sessions.begin() as session:
            await ensure_signing_key(session=session, secret=self._secret, now=now)
            await session.flush()
            rows = (
                await session.scalars(
                    select(SigningKey)
                    .where(or_(SigningKey.verify_until.is_(None), SigningKey.verify_until > now))
                    .order_by(SigningKey.created_at)
                )
            ).all()
        keys: dict[str, KeyEntry] = {}
        signing: KeyEntry | None = None
        for row in rows:
            private = None
            if row.retired_at is None:
                loaded = serialization.load_pem_private_key(
                    row.private_pem.encode(), password=self._secret
                )
                assert isinstance(loaded, Ed25519PrivateKey)
                private = loaded
            public = OKPAlgorithm.from_jwk(row.public_jwk)
            assert isinstance(public, Ed25519PublicKey)
            entry = KeyEntry(row.kid, public, private, row.public_jwk, row.verify_until)
            keys[row.kid] = entry
            if private is not None:
                signing = entry  # the newest unretired key signs
        self._keys, self._signing = keys, signing
        self._loaded_at = time.monotonic()

    async def _fresh(self, *, max_age: float) -> None:
        if time.monotonic() - self._loaded_at >= max_age:
            await self.reload()

    async def signing_key(self) -> KeyEntry:
        await self._fresh(max_age=self._refresh)
        assert self._signing is not None and self._signing.private is not None
        return self._signing

    async def public_key(self, kid: str) -> Ed25519PublicKey | None:
        await self._fresh(max_age=self._refresh)
        if kid not in self._keys:
            await self._fresh(max_age=1.0)
        entry = self._keys.get(kid)
        if entry is None:
            return None
        if entry.verify_until is not None and entry.verify_until <= self._clock.now():
            return None
        return entry.public

    async def jwks(self) -> dict[str, Any]:
        await self._fresh(max_age=self._refresh)
        now = self._clock.now()
        return {
            "keys": [
                e.jwk for e in self._keys.values() if e.verify_until is None or e.verify_until > now
            ]
        }


async def list_signing_keys(*, session: AsyncSession) -> list[SigningKey]:
    """Every signing key, oldest first (of keys made at one instant, the retired first)."""
    stmt = select(SigningKey).order_by(
        SigningKey.created_at, SigningKey.retired_at.is_(None), SigningKey.kid
    )
    return list(await session.scalars(stmt))
