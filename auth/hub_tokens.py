"""Hub tokens: how a node knows a call comes from the hub (DESIGN §2, "A node is a
service").

The hub signs a short-lived ES256 JWT for every call it makes to a node: ``iss``
``govhub-hub``, ``aud`` ``govhub-node:<node id>``, ``iat``/``exp`` (a minute by
default), a ``jti`` and the ``kid`` of its key in the header. A node verifies it against
the hub's public keys — handed to it in-process as a JWKS, or read over HTTP from a
configured URL (the hub serves ``/.well-known/hub-jwks.json``) and read again when a
token names a ``kid`` it has not seen (a rotation), at most every few seconds. The
algorithm is pinned; a token for another node (its ``aud``) is refused.

The hub's key is a P-256 private key in a PEM file (``GOVHUB_HUB_KEY_FILE``); a dev hub
makes one on first use under ``GOVHUB_VAR_DIR``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

ALGORITHM = "ES256"
ISSUER = "govhub-hub"
# the leeway for clocks of hub and node that differ a little
LEEWAY_SECONDS = 5


def audience(node_id: str) -> str:
    """The audience of the hub's tokens for one node."""
    return f"govhub-node:{node_id}"


class HubTokenInvalid(Exception):
    """A call without a valid hub token (the node answers 401): why, for the log."""


@dataclass(frozen=True)
class HubKey:
    """The hub's signing key and its ``kid`` (derived from the public key, so every
    hub replica with the same file names it alike)."""

    private: ec.EllipticCurvePrivateKey
    kid: str

    @classmethod
    def of(cls, private: ec.EllipticCurvePrivateKey) -> HubKey:
        public = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = base64.urlsafe_b64encode(hashlib.sha256(public).digest()[:12]).decode()
        return cls(private, f"hub-{digest.rstrip('=')}")

    @classmethod
    def generate(cls) -> HubKey:
        return cls.of(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, data: bytes) -> HubKey:
        loaded = serialization.load_pem_private_key(data, password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
            loaded.curve, ec.SECP256R1
        ):
            raise ValueError("the hub key is not a P-256 (ES256) private key")
        return cls.of(loaded)

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> HubKey:
        """The key in ``path``; ``create``: make it there first when it is missing
        (a dev hub)."""
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = cls.generate()
            path.write_bytes(key.pem())
            path.chmod(0o600)
            return key
        return cls.from_pem(path.read_bytes())

    def pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def jwk(self) -> dict[str, Any]:
        found: dict[str, Any] = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        found.update(kid=self.kid, alg=ALGORITHM, use="sig")
        return found

    def jwks(self) -> dict[str, Any]:
        """The public half, as the hub publishes it."""
        return {"keys": [self.jwk()]}


@dataclass
class HubTokenSigner:
    """Signs the hub's tokens, one per node, each reused until it is near its end."""

    key: HubKey
    seconds: int = 60
    now: Callable[[], float] = time.time
    _cache: dict[str, tuple[str, float]] = field(default_factory=dict)

    def token(self, node_id: str) -> str:
        now = self.now()
        cached = self._cache.get(node_id)
        # renewed once two thirds of its life are gone: a call in flight never carries
        # a token that ends on its way
        if cached is not None and now < cached[1] - self.seconds / 3:
            return cached[0]
        issued = int(now)
        claims = {
            "iss": ISSUER,
            "aud": audience(node_id),
            "sub": "hub",
            "iat": issued,
            "exp": issued + self.seconds,
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(
            claims, self.key.private, algorithm=ALGORITHM, headers={"kid": self.key.kid}
        )
        self._cache[node_id] = (token, float(issued + self.seconds))
        return token


class KeySource(Protocol):
    """Where a node gets the hub's public keys."""

    async def jwks(self, *, refresh: bool) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class StaticKeys:
    """The hub's keys handed over in-process (or read from a file once)."""

    keys: Mapping[str, Any]

    async def jwks(self, *, refresh: bool) -> Mapping[str, Any]:
        return self.keys


@dataclass
class KeysAtUrl:
    """The hub's JWKS read over HTTP, kept, and read again (at most every
    ``min_interval`` seconds) when a token names a ``kid`` it does not list."""

    url: str
    timeout: float = 5.0
    min_interval: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None
    _keys: Mapping[str, Any] | None = None
    _read_at: float = float("-inf")
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def jwks(self, *, refresh: bool) -> Mapping[str, Any]:
        async with self._lock:
            stale = time.monotonic() - self._read_at >= self.min_interval
            if self._keys is None or (refresh and stale):
                async with httpx.AsyncClient(
                    timeout=self.timeout, transport=self.transport
                ) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    self._keys = response.json()
                self._read_at = time.monotonic()
            return self._keys


@dataclass
class HubTokenVerifier:
    """A node's check of the hub's tokens."""

    node_id: str
    source: KeySource

    async def _key(self, kid: str) -> Any:
        for refresh in (False, True):
            try:
                jwks = await self.source.jwks(refresh=refresh)
            except (httpx.HTTPError, ValueError) as exc:
                raise HubTokenInvalid(f"the hub's keys could not be read: {exc!r}") from exc
            for jwk in jwks.get("keys", []):
                if jwk.get("kid") == kid:
                    return ECAlgorithm.from_jwk(dict(jwk))
        raise HubTokenInvalid(f"unknown hub key {kid!r}")

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``HubTokenInvalid`` saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise HubTokenInvalid(f"not a JWT: {exc}") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise HubTokenInvalid(f"not signed with {ALGORITHM} and a kid")
        key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience(self.node_id),
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise HubTokenInvalid(f"refused: {exc}") from exc
        return claims
